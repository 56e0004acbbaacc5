import { Principal } from './roles';

/**
 * Whose credentials ended: every session and stream of a person (disabled, a new password) or
 * of an API key (revoked), or one session (signed out).
 */
export type CredentialEnd = { readonly owner: string; readonly credential?: string };

/** `person:wang` or `key:ops-dashboard`: people and keys may share a name. */
export const ownerOf = (p: Pick<Principal, 'name' | 'credential'>): string =>
  `${p.credential?.kind === 'key' ? 'key' : 'person'}:${p.name}`;

/**
 * Where the end of a credential is announced, so the streams it opened close at once and the
 * stream tokens it fetched stop working (they outlived sign-out by up to 5 minutes, issue 22).
 */
export class CredentialEnds {
  private readonly listeners: ((end: CredentialEnd) => void)[] = [];

  on(listener: (end: CredentialEnd) => void): void {
    this.listeners.push(listener);
  }

  end(end: CredentialEnd): void {
    for (const listener of this.listeners) listener(end);
  }
}

import { CredentialEnds, CredentialEnd, ownerOf } from './credential-ends';
import { Principal } from './roles';

/** Open alert streams a person or key may hold: tabs and wall screens, not 3,000 (+100 MB) on one token. */
export const MAX_STREAMS_PER_OWNER = 10;

interface OpenStream {
  readonly credential: string | undefined;
  readonly close: () => void;
}

/**
 * The open alert streams, per person or API key: capped, and closed the moment the credential
 * that opened them ends (sign-out, a disabled person or a new password, a revoked key).
 */
export class LiveStreams {
  private readonly byOwner = new Map<string, Set<OpenStream>>();

  constructor(
    ends: CredentialEnds,
    readonly maxPerOwner = MAX_STREAMS_PER_OWNER,
  ) {
    ends.on((end) => this.closeFor(end));
  }

  /** Registers a stream; its release (call when it closes), or null when its owner holds maxPerOwner already. */
  open(principal: Principal, close: () => void): (() => void) | null {
    const owner = ownerOf(principal);
    const streams = this.byOwner.get(owner) ?? new Set<OpenStream>();
    if (streams.size >= this.maxPerOwner) return null;
    const stream: OpenStream = { credential: principal.credential?.id, close };
    streams.add(stream);
    this.byOwner.set(owner, streams);
    return () => {
      streams.delete(stream);
      if (streams.size === 0 && this.byOwner.get(owner) === streams) this.byOwner.delete(owner);
    };
  }

  private closeFor(end: CredentialEnd): void {
    for (const stream of [...(this.byOwner.get(end.owner) ?? [])])
      if (end.credential === undefined || stream.credential === end.credential) stream.close();
  }
}

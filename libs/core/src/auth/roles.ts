export const ROLES = ['viewer', 'inspector', 'admin'] as const;
export type Role = (typeof ROLES)[number];

/** Who made a request: the API key's name (an inspector's name, for the alert history) and role. */
export interface Principal {
  readonly name: string;
  readonly role: Role;
  /** A person's display name (history shows it beside the login name); absent for API keys. */
  readonly displayName?: string | null;
  /** What authenticated it: one session (by an id derived from its token) or an API key (by name). */
  readonly credential?: { readonly kind: 'session' | 'key'; readonly id: string };
}

/** Each role includes the ones before it: an inspector may read, an admin may act on alerts. */
export const roleAllows = (held: Role, needed: Role): boolean => ROLES.indexOf(held) >= ROLES.indexOf(needed);

/** Injection tokens for the adapters that are not classes of our own. */
export const CONFIG = Symbol('IngestConfig');
export const CLOCK = Symbol('Clock');
export const MAIN_DB = Symbol('MainDatabase');
export const SPOOL_DB = Symbol('SpoolDatabase');

/** The clock adapter: every "now" in the service comes from here, so tests can move time. */
export interface Clock {
  now(): number;
}
export const systemClock: Clock = { now: () => Date.now() };

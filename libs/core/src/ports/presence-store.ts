/** What the service knows of a device's connection and voice (times epoch ms). */
export interface DevicePresence {
  online: boolean;
  lastConnectAt: number | null;
  lastDisconnectAt: number | null;
  /** Receive time of its last accepted reading. */
  lastSeenAt: number | null;
  /** Last message on its status topic (often the last will) and when it came. */
  lastStatus: string | null;
  lastStatusAt: number | null;
}

/** Persistence of presence; the Presence service is the one owner of the state. */
export interface PresenceStore {
  loadAll(): Promise<Map<string, DevicePresence>>;
  save(changed: ReadonlyMap<string, DevicePresence>): Promise<void>;
  /**
   * Several instances (a store they share): the rows any of them saved within the last
   * `withinMs`, by the store's own clock — what an instance merges from the others without
   * reading every device each time.
   */
  loadRecent?(withinMs: number): Promise<Map<string, DevicePresence>>;
}

/**
 * Serialises the writes on one SQLite connection. better-sqlite3 is synchronous, but a unit of
 * work (AlertStore.transaction) awaits between its statements; while its BEGIN is open, another
 * component's write on the same connection would silently join it (and be rolled back with it).
 * Every write of the main database goes through this queue, so each runs alone; reads need no
 * turn (WAL). Hand-written: a promise chain is all it takes, and it must not reorder writes.
 */
export class WriteQueue {
  private tail: Promise<unknown> = Promise.resolve();

  run<T>(work: () => T | Promise<T>): Promise<T> {
    const result = this.tail.then(work);
    this.tail = result.catch(() => undefined);
    return result;
  }
}

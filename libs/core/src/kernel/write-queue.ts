/**
 * Runs work one at a time, in the order asked. The SQLite store puts every write of the main
 * database through one (a unit of work awaits between its statements; another write on the same
 * connection would silently join its open BEGIN); the PostgreSQL store its alert units of work
 * (a rule commit must not overtake the one before it). Hand-written: a promise chain is all it
 * takes, and it must not reorder work.
 */
export class WriteQueue {
  private tail: Promise<unknown> = Promise.resolve();

  run<T>(work: () => T | Promise<T>): Promise<T> {
    const result = this.tail.then(work);
    this.tail = result.catch(() => undefined);
    return result;
  }
}

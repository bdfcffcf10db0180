/** What PresencePrefetch knows of one index entry (a byte each in a SharedArrayBuffer). */
export const UNKNOWN = 0;
/** Its marker and every output it names existed when the worker thread looked. */
export const PRESENT = 1;
/** Something it names was missing (or the line could not be checked): the main thread decides. */
export const MISSING = 2;

export interface PresenceWorkerData {
  /** The loaded index's temp copy: one entry per line, in entry-number order. */
  indexFile: string;
  /** The local directory the store keeps its objects in. */
  root: string;
  /** One byte per entry: UNKNOWN, PRESENT or MISSING. */
  states: SharedArrayBuffer;
}

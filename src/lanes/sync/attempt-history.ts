import { hostname } from 'node:os';
import type { AttemptEntry } from '../../runs/attempt-entry.js';

export type { AttemptEntry };

/** Which process did it: host and pid, as `bunch logs` and claim tokens show it. */
export const WORKER_ID = `${hostname()}:${process.pid}`;

/** How many entries an item keeps: its story stays bounded however often it was retried. */
export const HISTORY_LIMIT = 20;

export function appendEntry(history: readonly AttemptEntry[] | undefined, entry: Omit<AttemptEntry, 'at' | 'worker'>): AttemptEntry[] {
  const full: AttemptEntry = { at: new Date().toISOString(), worker: WORKER_ID, ...entry };
  return [...(history ?? []), full].slice(-HISTORY_LIMIT);
}

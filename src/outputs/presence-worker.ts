/**
 * The worker thread of PresencePrefetch (presence-prefetch.ts): reads a loaded index's temp copy
 * line by line and, for each entry in order, stats its marker and outputs under the local
 * directory, then stores 1 (all there) or 2 (something missing) in the shared state array.
 */
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { parentPort, workerData } from 'node:worker_threads';
import { markerKey } from '../plan/item-identity.js';
import { LocalObjectStore } from '../storage/local-object-store.js';
import { entryOutputKeys, type StoredIndexEntry } from './stored-index-entry.js';
import { PRESENT, MISSING, type PresenceWorkerData } from './presence-states.js';

async function checkAll(data: PresenceWorkerData): Promise<void> {
  const store = new LocalObjectStore({ root: data.root });
  const states = new Uint8Array(data.states);
  let number = 0;
  for await (const line of createInterface({ input: createReadStream(data.indexFile), crlfDelay: Infinity })) {
    if (!line) continue;
    if (number >= states.length) break;
    let state = MISSING;
    try {
      const entry = JSON.parse(line) as StoredIndexEntry;
      const keys = [markerKey(entry.itemKey, entry.inputHash), ...entryOutputKeys(entry)];
      state = keys.every((key) => store.existsSync(key)) ? PRESENT : MISSING;
    } catch {
      // A line that does not parse, or a key the store refuses: the main thread decides it.
      state = MISSING;
    }
    Atomics.store(states, number, state);
    number += 1;
  }
}

checkAll(workerData as PresenceWorkerData).then(
  () => parentPort?.postMessage({ done: true }),
  (error: unknown) => parentPort?.postMessage({ done: false, error: error instanceof Error ? error.message : String(error) }),
);

/**
 * Child process for loaded-stored-index-full-disk.test.ts: loads a stored-output index that
 * arrives in small chunks, a few milliseconds apart (as from S3), into `argv[2]` as temp root, and
 * prints one JSON line: how the load ended. Run under `ulimit -f` so the temp copy cannot be written.
 */
import { Readable } from 'node:stream';
import { LoadedStoredIndex } from '../../src/outputs/loaded-stored-index.js';
import type { ObjectStore } from '../../src/storage/object-store.js';

const tempRoot = process.argv[2] as string;
process.on('uncaughtException', (error: NodeJS.ErrnoException) => {
  console.log(JSON.stringify({ outcome: 'crashed', code: error.code }));
  process.exit(3);
});
const line = `${JSON.stringify({ itemKey: 'SKU-1#main', inputHash: 'a'.repeat(64), model: 'm', lane: 'sync', runId: 'r', createdAt: '2026-12-01T00:00:00.000Z' })}\n`;
const body = Buffer.from(line.repeat(2000));
async function* slowly(): AsyncGenerator<Buffer> {
  for (let start = 0; start < body.length; start += 1000) {
    await new Promise((resolve) => setTimeout(resolve, 5));
    yield body.subarray(start, start + 1000);
  }
}
const store = { getStream: async () => Readable.from(slowly()) } as unknown as ObjectStore;
const pointer = { schemaVersion: 1 as const, jobName: 'j', runId: 'r', index: 'runs/r/stored-index.jsonl', entries: 2000, writtenAt: '2026-12-01T00:00:00.000Z' };
try {
  const index = await LoadedStoredIndex.load(store, pointer, { tempRoot });
  await index?.close();
  console.log(JSON.stringify({ outcome: 'loaded' }));
} catch (error) {
  console.log(JSON.stringify({ outcome: 'rejected', code: (error as NodeJS.ErrnoException).code }));
}

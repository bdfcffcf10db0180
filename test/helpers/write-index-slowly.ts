/**
 * Child process for stored-index-writer-full-disk.test.ts: collects a stored-output index the way
 * the finalizer does, records coming in small groups a few milliseconds apart (as read from Redis
 * and storage), with TMPDIR as its temp root, then uploads it to a local store at `argv[2]`.
 * Prints one JSON line: how it ended. Run under `ulimit -f` so the temp copy cannot be written.
 */
import { StoredIndexWriter } from '../../src/outputs/stored-index-writer.js';
import type { ItemRecord } from '../../src/runs/item-record.js';
import { LocalObjectStore } from '../../src/storage/local-object-store.js';

process.on('uncaughtException', (error: NodeJS.ErrnoException) => {
  console.log(JSON.stringify({ outcome: 'crashed', code: error.code }));
  process.exit(3);
});
const store = new LocalObjectStore({ root: process.argv[2] as string });
const writer = new StoredIndexWriter(store, 'run-1');
const record = (index: number): ItemRecord => ({
  index,
  itemKey: `SKU-${index}#main`,
  key: `SKU-${index}`,
  variant: 'main',
  rowNumber: index + 2,
  status: 'succeeded',
  lane: 'sync',
  inputHash: 'a'.repeat(64),
  model: 'gemini-3.1-flash-image-preview',
  costUsd: 0.04,
  attempts: 1,
  finishedAt: '2026-12-04T00:00:00.000Z',
  image: { key: `SKU-${index}/main.png`, uri: `file:///out/SKU-${index}/main.png`, sha256: 'b'.repeat(64), bytes: 1000, mimeType: 'image/png', width: 512, height: 512 },
});
try {
  for (let index = 0; index < 600; index += 1) {
    if (index % 10 === 0) await new Promise((resolve) => setTimeout(resolve, 5));
    await writer.add(record(index));
  }
  const uploaded = await writer.upload('runs/run-1/stored-index.jsonl');
  console.log(JSON.stringify({ outcome: uploaded ? 'uploaded' : 'not-uploaded', entries: writer.entries, code: (writer.failure as NodeJS.ErrnoException | undefined)?.code }));
} catch (error) {
  console.log(JSON.stringify({ outcome: 'rejected', code: (error as NodeJS.ErrnoException).code }));
} finally {
  await writer.discard();
}

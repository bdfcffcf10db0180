import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { storedIndexEntryOf } from '../../../src/outputs/stored-index-entry.js';
import { StoredIndexWriter } from '../../../src/outputs/stored-index-writer.js';
import type { ItemRecord } from '../../../src/runs/item-record.js';
import { LocalObjectStore } from '../../../src/storage/local-object-store.js';
import { tempDir, type TempDir } from '../../helpers/temp-dir.js';

let dir: TempDir;
beforeAll(async () => {
  dir = await tempDir('index-writer');
});
afterAll(async () => dir?.remove());

function record(index: number, status: ItemRecord['status'] = 'succeeded'): ItemRecord {
  return {
    index,
    itemKey: `SKU-${index}#main`,
    key: `SKU-${index}`,
    variant: 'main',
    rowNumber: index + 2,
    status,
    lane: 'sync',
    inputHash: index.toString(16).padStart(64, '0'),
    model: 'gemini-3.1-flash-image-preview',
    costUsd: 0.04,
    attempts: 1,
    finishedAt: '2026-12-04T00:00:00.000Z',
    image: { key: `SKU-${index}/main.png`, uri: `file:///out/SKU-${index}/main.png`, sha256: 'b'.repeat(64), bytes: 1000, mimeType: 'image/png', width: 512, height: 512 },
  };
}

async function collect(records: ItemRecord[]): Promise<{ uploaded: boolean; entries: number; text: string | undefined }> {
  const store = new LocalObjectStore({ root: dir.path });
  const writer = new StoredIndexWriter(store, 'run-1');
  const key = `runs/run-${records.length}/stored-index.jsonl`;
  try {
    for (const each of records) await writer.add(each);
    const uploaded = await writer.upload(key);
    return { uploaded, entries: writer.entries, text: (await store.get(key))?.toString('utf8') };
  } finally {
    await writer.discard();
  }
}

const expected = (records: ItemRecord[]) =>
  records
    .map((each) => storedIndexEntryOf(each, 'run-1'))
    .filter((entry) => entry !== undefined)
    .map((entry) => JSON.stringify(entry) + '\n')
    .join('');

describe('StoredIndexWriter', () => {
  it('uploads every stored entry in order, also the ones still waiting to be written when the upload starts', async () => {
    // ~330 bytes an entry: 2,500 entries cross the 64 KiB write batch about a dozen times and
    // leave a part batch at the end; failed items have no entry.
    const records = Array.from({ length: 2_500 }, (_, i) => record(i, i % 7 === 3 ? 'failed' : 'succeeded'));
    const result = await collect(records);
    expect(result.uploaded).toBe(true);
    expect(result.entries).toBe(2_500 - 357);
    expect(result.text).toBe(expected(records));
  });

  it('a few entries (less than one batch) are uploaded whole', async () => {
    const records = [record(1), record(2), record(3)];
    const result = await collect(records);
    expect(result).toEqual({ uploaded: true, entries: 3, text: expected(records) });
  });

  it('no entry: the upload is an empty index', async () => {
    const result = await collect([record(1, 'failed')]);
    expect(result).toEqual({ uploaded: true, entries: 0, text: '' });
  });
});

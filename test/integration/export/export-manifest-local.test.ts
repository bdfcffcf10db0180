import { Writable } from 'node:stream';
import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exportManifest } from '../../../src/export/export-manifest.js';
import type { ManifestLine } from '../../../src/manifest/manifest-line.js';
import { LocalObjectStore } from '../../../src/storage/local-object-store.js';
import { tempDir, type TempDir } from '../../helpers/temp-dir.js';

/**
 * exportManifest over a real local directory store, with manifest lines no emulator run produces:
 * line breaks and quotes in error messages, a caption that starts like a formula, warnings, a
 * rejected row without a key; and a reader that takes one chunk at a time.
 */
const RUN = 'job-20261203T000000-abcdef';
let dir: TempDir;
let store: LocalObjectStore;
let lines: ManifestLine[];
const manifestLines = (imageUri: string): ManifestLine[] => [
  {
    schemaVersion: 1, runId: RUN, index: 0, itemKey: 'A/main', key: 'A', variant: 'main', rowNumber: 1, status: 'succeeded', lane: 'sync',
    inputHash: 'h0', model: 'm', costUsd: 0.04, attempts: 1, finishedAt: '2026-12-03T00:00:00.000Z',
    image: { key: 'A/main-h0.png', uri: imageUri, sha256: 's', bytes: 1, mimeType: 'image/png', width: 1, height: 1 },
    caption: { key: 'A/main-h0.txt', uri: '', sha256: 's', bytes: 1, text: '-50% off, "today"\nonly' },
    warnings: ['image is 1024x1024, not 2048x2048', '=odd'],
  },
  {
    schemaVersion: 1, runId: RUN, index: 1, itemKey: 'B/main', key: 'B', variant: 'main', rowNumber: 2, status: 'failed', lane: 'batch',
    inputHash: 'h1', model: 'm', costUsd: 0, attempts: 3, finishedAt: '2026-12-03T00:00:00.000Z',
    errorCode: 'E_BAD_REQUEST', errorMessage: 'Invalid value at "contents[0]":\n\t=1+1, "x"',
  },
  { schemaVersion: 1, runId: RUN, status: 'rejected', rowNumber: 3, line: 4, file: 'cat.csv', errorCode: 'E_CATALOG_ROW', errorMessage: 'no value in the key column `sku`' },
];

beforeAll(async () => {
  dir = await tempDir('export-local');
  store = new LocalObjectStore({ root: dir.path });
  lines = manifestLines(store.uriFor('A/main-h0.png'));
  await store.put(`runs/${RUN}/manifest.jsonl`, lines.map((line) => JSON.stringify(line) + '\n').join(''));
});
afterAll(async () => {
  await store.close();
  await dir.remove();
});

/** A destination that accepts one small chunk at a time, so the export must wait for 'drain'. */
function slowSink(): { sink: Writable; text: () => string } {
  const chunks: Buffer[] = [];
  const sink = new Writable({
    highWaterMark: 1,
    write(chunk: Buffer, _encoding, done) {
      chunks.push(chunk);
      setImmediate(done);
    },
  });
  return { sink, text: () => Buffer.concat(chunks).toString('utf8') };
}

describe('exportManifest (local store)', () => {
  it('writes CSV whose cells round-trip, neutralised where a spreadsheet would compute, with file URIs as links', async () => {
    const { sink, text } = slowSink();
    expect(await exportManifest(store, RUN, sink, { format: 'csv' })).toBe(3);
    const records = parse(text(), { columns: true }) as Record<string, string>[];
    expect(records).toEqual([
      expect.objectContaining({
        key: 'A', status: 'succeeded', image: store.uriFor('A/main-h0.png'), imageLink: store.uriFor('A/main-h0.png'),
        caption: `'-50% off, "today"\nonly`, warnings: 'image is 1024x1024, not 2048x2048; =odd', costUsd: '0.04', attempts: '1', lane: 'sync',
      }),
      expect.objectContaining({ key: 'B', status: 'failed', errorMessage: 'Invalid value at "contents[0]":\n\t=1+1, "x"', image: '', imageLink: '', lane: 'batch' }),
      { key: '', variant: '', itemKey: '', status: 'rejected', errorCode: 'E_CATALOG_ROW', errorMessage: 'no value in the key column `sku`', lane: '', attempts: '', costUsd: '', image: '', imageLink: '', caption: '', warnings: '', rowNumber: '3', runId: RUN },
    ]);
  });

  it('passes JSON lines through untouched and filters by status', async () => {
    const { sink, text } = slowSink();
    expect(await exportManifest(store, RUN, sink, { format: 'jsonl', statuses: new Set(['failed', 'rejected'] as const) })).toBe(2);
    expect(text()).toBe(lines.slice(1).map((line) => JSON.stringify(line) + '\n').join(''));
  });

  it('says E_NOT_FOUND for a run without a manifest', async () => {
    await expect(exportManifest(store, 'no-such-run', slowSink().sink, { format: 'csv' })).rejects.toMatchObject({ code: 'E_NOT_FOUND' });
  });
});

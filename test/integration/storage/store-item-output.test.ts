import { readdir } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BunchError } from '../../../src/errors/bunch-error.js';
import type { ParsedGenerateResponse } from '../../../src/gemini/parse-generate-response.js';
import { readStoredOutput, storeItemOutput } from '../../../src/outputs/store-item-output.js';
import type { ItemTarget } from '../../../src/plan/planned-item.js';
import { LocalObjectStore } from '../../../src/storage/local-object-store.js';
import type { ObjectStore } from '../../../src/storage/object-store.js';
import { countingStore } from '../../helpers/counting-store.js';
import { tempDir, type TempDir } from '../../helpers/temp-dir.js';

let dir: TempDir;
let png: Buffer;
beforeAll(async () => {
  dir = await tempDir('store-item-output');
  png = await sharp({ create: { width: 8, height: 8, channels: 3, background: '#3366aa' } }).png().toBuffer();
});
afterAll(async () => dir?.remove());

const target: ItemTarget = {
  index: 0,
  itemKey: 'SKU-1#main',
  rowKey: 'SKU-1',
  variant: 'main',
  rowNumber: 2,
  model: 'gemini-3.1-flash-image-preview',
  inputHash: 'a'.repeat(64),
  expected: { width: 8, height: 8 },
  objectKey: 'SKU-1/main.{{ext}}',
  captionKey: 'SKU-1/main.txt',
  markerKey: `_bunch/results/aa/${'a'.repeat(64)}-0123456789abcdef.json`,
};

function answer(): ParsedGenerateResponse {
  return {
    images: [{ mimeType: 'image/png', base64: '', bytes: png }],
    thoughts: { texts: [], images: [] },
    turn: [],
    text: 'A blue square.',
    usage: { promptTokens: 10, outputTokens: 1290, thoughtsTokens: 0, totalTokens: 1300 },
  };
}

const context = { runId: 'r1', lane: 'sync' as const, wantImage: true, wantText: true, attempts: 1, costUsd: 0.067 };

/** Puts of `failing` keys reject after the others were let through; every put is timed. */
function storeFailing(inner: ObjectStore, failing: string): { store: ObjectStore; events: string[] } {
  const events: string[] = [];
  const store: ObjectStore = Object.assign(Object.create(inner) as ObjectStore, {
    put: async (key: string, body: Buffer | string, options?: Parameters<ObjectStore['put']>[2]) => {
      events.push(`start ${key}`);
      if (key === failing) {
        await new Promise((resolve) => setTimeout(resolve, 20));
        events.push(`fail ${key}`);
        throw new BunchError('E_STORAGE', `put of ${key} failed`, { retryable: true });
      }
      await inner.put(key, body, options);
      events.push(`done ${key}`);
    },
  });
  return { store, events };
}

describe('storeItemOutput writes the outputs at once and the marker last', () => {
  it('image and caption are written side by side; the marker only after both', async () => {
    const local = new LocalObjectStore({ root: path.join(dir.path, 'ok') });
    const { store, events } = storeFailing(local, 'none');
    const record = await storeItemOutput(store, target, answer(), context);
    expect(record).toMatchObject({ status: 'succeeded', image: { key: 'SKU-1/main.png', width: 8, height: 8 }, caption: { key: 'SKU-1/main.txt' } });
    // Both outputs were started before either finished; the marker started after both finished.
    expect(events.slice(0, 2).sort()).toEqual(['start SKU-1/main.png', 'start SKU-1/main.txt']);
    expect(events.indexOf(`start ${target.markerKey}`)).toBeGreaterThan(Math.max(events.indexOf('done SKU-1/main.png'), events.indexOf('done SKU-1/main.txt')));
    expect((await readStoredOutput(local, target))?.image?.sha256).toBe(record.image?.sha256);
  });

  it('a caption that cannot be written fails the item with E_STORAGE, after the image write has ended, and writes no marker', async () => {
    const local = new LocalObjectStore({ root: path.join(dir.path, 'failing') });
    const { store, events } = storeFailing(local, 'SKU-1/main.txt');
    await expect(storeItemOutput(store, target, answer(), context)).rejects.toMatchObject({ code: 'E_STORAGE' });
    // Nothing was still running when the failure was reported (the caller may retry at once).
    expect(events).toContain('done SKU-1/main.png');
    expect(events).not.toContain(`start ${target.markerKey}`);
    expect(await readStoredOutput(local, target)).toBeUndefined();
  });
});

describe('readStoredOutput', () => {
  it('on a store with existsSync, an absent marker costs a stat and no read; a present one is read', async () => {
    const local = new LocalObjectStore({ root: path.join(dir.path, 'exists') });
    const counted = countingStore(local);
    expect(await readStoredOutput(counted.store, target)).toBeUndefined();
    expect(counted.calls).toMatchObject({ exists: [target.markerKey], get: [] });
    await storeItemOutput(local, target, answer(), context);
    expect((await readStoredOutput(counted.store, target))?.inputHash).toBe(target.inputHash);
    expect(counted.calls.get).toEqual([target.markerKey]);
    // Without existsSync (as on S3) the marker is simply read.
    const plain = countingStore(local, { existsSync: false });
    expect((await readStoredOutput(plain.store, { ...target, inputHash: 'b'.repeat(64) }))).toBeUndefined();
    expect(plain.calls.get).toEqual([target.markerKey]);
    expect(await readdir(path.join(dir.path, 'exists'))).toContain('SKU-1');
  });
});

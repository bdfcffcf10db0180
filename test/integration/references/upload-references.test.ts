import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type RunningEmulator } from '../../../src/emulator/start-emulator.js';
import { createGeminiClient } from '../../../src/gemini/gemini-client.js';
import { referenceObjectKey } from '../../../src/references/reference-object-key.js';
import { uploadReferences } from '../../../src/references/upload-references.js';
import { openObjectStore } from '../../../src/storage/open-object-store.js';
import type { ObjectStore } from '../../../src/storage/object-store.js';
import { solidImage } from '../../helpers/image-server.js';
import { tempDir, type TempDir } from '../../helpers/temp-dir.js';
import { createHash } from 'node:crypto';

describe('uploading references for the batch lane (Files API of the emulator)', () => {
  let emulator: RunningEmulator;
  let dir: TempDir;
  let store: ObjectStore;
  beforeAll(async () => {
    emulator = await startEmulator({ apiKey: 'upload-key' });
    dir = await tempDir('upload-refs');
    store = openObjectStore(`file://${path.join(dir.path, 'out')}`);
  });
  afterAll(async () => {
    await store?.close();
    await emulator?.close();
    await dir?.remove();
  });

  /** Files the emulator holds: one per upload. */
  const uploads = async () => {
    const response = await fetch(`${emulator.url}/v1beta/files?pageSize=100`, { headers: { 'x-goog-api-key': 'upload-key' } });
    return ((await response.json()) as { files?: unknown[] }).files?.length ?? 0;
  };

  it('uploads once, reuses the upload while it has time left, and uploads again near its 48 h expiry or for another endpoint', async () => {
    const bytes = await solidImage({ r: 1, g: 2, b: 3 });
    const sha = createHash('sha256').update(bytes).digest('hex');
    await store.put(referenceObjectKey(sha), bytes, { contentType: 'image/png' });
    const client = createGeminiClient({ baseUrl: emulator.url, apiKey: 'upload-key' });
    const start = Date.now();
    const options = (now: number, baseUrl = emulator.url) => ({ dir: dir.path, baseUrl, now: () => now });

    const first = await uploadReferences(client, store, [sha], options(start));
    const uri = first.get(sha)?.uri;
    expect(uri).toMatch(/\/v1beta\/files\/[a-z0-9-]+$/);
    expect(first.get(sha)?.mimeType).toBe('image/png');
    expect(await uploads()).toBe(1);

    // Two hours later: still 46 h to live, reused.
    expect((await uploadReferences(client, store, [sha], options(start + 2 * 3_600_000))).get(sha)?.uri).toBe(uri);
    expect(await uploads()).toBe(1);

    // A day later only 24 h are left, less than a batch may need: uploaded again.
    const later = await uploadReferences(client, store, [sha], options(start + 24 * 3_600_000));
    expect(later.get(sha)?.uri).not.toBe(uri);
    expect(await uploads()).toBe(2);

    // Another API endpoint (another project) cannot read this project's files.
    await uploadReferences(client, store, [sha], options(start + 24 * 3_600_000, 'https://gateway.example'));
    expect(await uploads()).toBe(3);
  });

  it('uploads again when the remembered file is gone upstream, instead of naming a dead file in every line', async () => {
    const bytes = await solidImage({ r: 4, g: 5, b: 6 });
    const sha = createHash('sha256').update(bytes).digest('hex');
    await store.put(referenceObjectKey(sha), bytes, { contentType: 'image/png' });
    const client = createGeminiClient({ baseUrl: emulator.url, apiKey: 'upload-key' });
    const first = (await uploadReferences(client, store, [sha], { dir: dir.path, baseUrl: emulator.url })).get(sha)?.uri as string;
    const id = first.replace(/^.*\/files\//, '');
    // A clean-up deleted it (or another project's key now sits on the same endpoint).
    const deleted = await fetch(`${emulator.url}/v1beta/files/${id}`, { method: 'DELETE', headers: { 'x-goog-api-key': 'upload-key' } });
    expect(deleted.status).toBe(200);

    const next = (await uploadReferences(client, store, [sha], { dir: dir.path, baseUrl: emulator.url })).get(sha)?.uri as string;
    // Before: the same, deleted URI (every batch line naming it failed E_REFERENCE).
    expect(next).not.toBe(first);
    const probe = await fetch(`${emulator.url}/v1beta/files/${next.replace(/^.*\/files\//, '')}`, { headers: { 'x-goog-api-key': 'upload-key' } });
    expect(probe.status).toBe(200);
    // And it is remembered: the next shard reuses it.
    expect((await uploadReferences(client, store, [sha], { dir: dir.path, baseUrl: emulator.url })).get(sha)?.uri).toBe(next);
  });

  it('names a reference missing from storage', async () => {
    const client = createGeminiClient({ baseUrl: emulator.url, apiKey: 'upload-key' });
    await expect(uploadReferences(client, store, ['f'.repeat(64)], { dir: dir.path, baseUrl: emulator.url })).rejects.toMatchObject({
      code: 'E_REFERENCE',
      message: `reference image _bunch/refs/${'f'.repeat(64)} is missing from storage`,
    });
  });
});

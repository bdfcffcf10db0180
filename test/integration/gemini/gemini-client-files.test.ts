import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BunchError } from '../../../src/errors/bunch-error.js';
import { startEmulator, type RunningEmulator } from '../../../src/emulator/start-emulator.js';
import { createGeminiClient, type GeminiClient, type GeminiFile } from '../../../src/gemini/gemini-client.js';

/** The client's Files API helpers (resumable upload, JSON calls, streamed download) against the emulator. */
const API_KEY = 'emulator-files-key-e';

let emulator: RunningEmulator;
let client: GeminiClient;
let dir: string;

beforeAll(async () => {
  emulator = await startEmulator({ apiKey: API_KEY });
  client = createGeminiClient({ apiKey: API_KEY, baseUrl: emulator.url });
  dir = await mkdtemp(join(tmpdir(), 'bunch-files-'));
});

afterAll(async () => {
  await emulator?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('gemini client Files API', () => {
  it('uploads in several chunks, reads the resource back, downloads the same bytes, deletes it', async () => {
    const lines = Array.from({ length: 60 }, (_, i) => JSON.stringify({ key: `sku-${i}`, request: { contents: [] } }));
    const content = `${lines.join('\n')}\n`;
    const source = join(dir, 'shard-0001.jsonl');
    await writeFile(source, content);

    const file = await client.uploadResumable(source, { mimeType: 'application/jsonl', displayName: 'shard-0001', chunkBytes: 1000 });
    expect(file.name).toMatch(/^files\/[a-z0-9-]+$/);
    expect(file.displayName).toBe('shard-0001');
    expect(file.mimeType).toBe('application/jsonl');
    expect(file.sizeBytes).toBe(String(Buffer.byteLength(content)));

    const fetched = await client.request<GeminiFile>('GET', file.name, { timeoutMs: 5000 });
    expect(fetched.name).toBe(file.name);

    const target = join(dir, 'copy.jsonl');
    const { bytes } = await client.download(`${file.name}:download`, target, { timeoutMs: 5000 });
    expect(bytes).toBe(Buffer.byteLength(content));
    expect(await readFile(target, 'utf8')).toBe(content);

    expect(await client.request('DELETE', file.name, { timeoutMs: 5000 })).toEqual({});
    try {
      await client.request('GET', file.name, { timeoutMs: 5000 });
      throw new Error('expected E_NOT_FOUND');
    } catch (error) {
      expect(error).toBeInstanceOf(BunchError);
      expect((error as BunchError).code).toBe('E_NOT_FOUND');
    }
  });

  it('uploads an empty file in one finalize call, and lists it with query parameters', async () => {
    const source = join(dir, 'empty.jsonl');
    await writeFile(source, '');
    const file = await client.uploadResumable(source, { mimeType: 'application/jsonl', displayName: 'empty' });
    expect(file.sizeBytes).toBe('0');
    expect(file.state).toBe('ACTIVE');

    const page = await client.request<{ files?: GeminiFile[] }>('GET', 'files', { timeoutMs: 5000, query: { pageSize: 100 } });
    expect(page.files?.map((f) => f.name)).toContain(file.name);
  });
});

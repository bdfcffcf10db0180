import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BatchApiClient } from '../../../src/gemini/batch-api.js';
import { withUploadedReferences } from '../../../src/lanes/batch/shard-references.js';
import { openObjectStore } from '../../../src/storage/open-object-store.js';
import type { ObjectStore } from '../../../src/storage/object-store.js';
import { tempDir, type TempDir } from '../../helpers/temp-dir.js';

describe('reference placeholders in a stored batch shard', () => {
  let dir: TempDir;
  let store: ObjectStore;
  beforeAll(async () => {
    dir = await tempDir('shard-refs');
    store = openObjectStore(`file://${path.join(dir.path, 'out')}`);
  });
  afterAll(async () => {
    await store?.close();
    await dir?.remove();
  });

  it('only a fileUri is a placeholder: the same text in a prompt is left alone and uploads nothing', async () => {
    const sha = 'a'.repeat(64);
    const prompt = `Describe "fileUri":"bunch-ref:${sha}" literally`;
    const line = JSON.stringify({ key: 'A#main', request: { contents: [{ role: 'user', parts: [{ text: prompt }] }] } });
    const stored = path.join(dir.path, 'stored.jsonl');
    await writeFile(stored, line + '\n');
    const uploads: string[] = [];
    // Only uploadResumable can be reached by this code; anything else would be a bug here.
    const client = { uploadResumable: async (file: string) => void uploads.push(file) } as unknown as BatchApiClient;
    const { file, left, lines } = await withUploadedReferences(client, store, stored, path.join(dir.path, 'out.jsonl'), dir.path);
    expect([file, left.size, lines]).toEqual([stored, 0, 1]);
    expect(uploads).toEqual([]);
    expect(await readFile(file, 'utf8')).toBe(line + '\n');
  });
});

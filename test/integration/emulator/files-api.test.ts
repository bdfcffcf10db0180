import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApiError, GoogleGenAI } from '@google/genai';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startHarness, TEST_API_KEY, type Harness } from './files-batch-harness.js';

const HOUR = 60 * 60 * 1000;

describe('emulator Files API', () => {
  let harness: Harness;
  let dir: string;
  let ai: GoogleGenAI;

  beforeEach(async () => {
    harness = await startHarness({ batch: { maxFileBytes: 12 * 1024 * 1024 } });
    dir = await mkdtemp(join(tmpdir(), 'bunch-files-test-'));
    ai = new GoogleGenAI({ apiKey: TEST_API_KEY, httpOptions: { baseUrl: harness.url } });
  });

  afterEach(async () => {
    await harness.close();
    await rm(dir, { recursive: true, force: true });
  });

  const headers = (extra: Record<string, string> = {}): Record<string, string> => ({ 'x-goog-api-key': TEST_API_KEY, ...extra });

  async function startUpload(size: number, extra: Record<string, string> = {}): Promise<Response> {
    return fetch(`${harness.url}/upload/v1beta/files`, {
      method: 'POST',
      headers: headers({
        'content-type': 'application/json',
        'x-goog-upload-protocol': 'resumable',
        'x-goog-upload-command': 'start',
        'x-goog-upload-header-content-length': String(size),
        'x-goog-upload-header-content-type': 'application/jsonl',
        ...extra,
      }),
      body: JSON.stringify({ file: { displayName: 'raw upload' } }),
    });
  }

  it('uploads a multi-chunk file with the SDK and serves it back byte for byte from both download paths', async () => {
    // 9 MiB: the SDK sends an 8 MiB `upload` chunk, then an `upload, finalize` chunk.
    const bytes = randomBytes(9 * 1024 * 1024);
    const path = join(dir, 'input.jsonl');
    await writeFile(path, bytes);
    const file = await ai.files.upload({ file: path, config: { mimeType: 'application/jsonl', displayName: 'big input' } });

    expect(file.name).toMatch(/^files\/[a-z0-9]{12}$/);
    expect(file.displayName).toBe('big input');
    expect(file.mimeType).toBe('application/jsonl');
    expect(file.sizeBytes).toBe(String(bytes.length));
    expect(file.sha256Hash).toBe(createHash('sha256').update(bytes).digest('base64'));
    expect(file.state).toBe('ACTIVE');
    expect(file.source).toBe('UPLOADED');
    expect(Date.parse(file.expirationTime ?? '') - Date.parse(file.createTime ?? '')).toBe(48 * HOUR);

    const fetched = await ai.files.get({ name: file.name ?? '' });
    expect(fetched).toEqual(file);

    const sdkCopy = join(dir, 'sdk-copy');
    await ai.files.download({ file: file.name ?? '', downloadPath: sdkCopy });
    expect((await readFile(sdkCopy)).equals(bytes)).toBe(true);

    const id = (file.name ?? '').replace('files/', '');
    const raw = await fetch(`${harness.url}/download/v1beta/files/${id}:download?alt=media`, { headers: headers() });
    expect(raw.status).toBe(200);
    expect(raw.headers.get('content-length')).toBe(String(bytes.length));
    expect(Buffer.from(await raw.arrayBuffer()).equals(bytes)).toBe(true);
  });

  it('lists files page by page and deletes them', async () => {
    const names: string[] = [];
    for (const n of [1, 2, 3]) {
      const path = join(dir, `f${n}.txt`);
      await writeFile(path, `file ${n}`);
      const file = await ai.files.upload({ file: path, config: { mimeType: 'text/plain' } });
      names.push(file.name ?? '');
    }
    const first = await fetch(`${harness.url}/v1beta/files?pageSize=2`, { headers: headers() });
    const firstBody = (await first.json()) as { files: { name: string }[]; nextPageToken: string };
    expect(firstBody.files.map((f) => f.name)).toEqual(names.slice(0, 2));
    expect(typeof firstBody.nextPageToken).toBe('string');
    const second = await fetch(`${harness.url}/v1beta/files?pageSize=2&pageToken=${firstBody.nextPageToken}`, { headers: headers() });
    expect(await second.json()).toMatchObject({ files: [{ name: names[2] }] });

    const pager = await ai.files.list({ config: { pageSize: 2 } });
    const seen: string[] = [];
    for await (const file of pager) seen.push(file.name ?? '');
    expect(seen).toEqual(names);

    const deleted = await fetch(`${harness.url}/v1beta/${names[0]}`, { method: 'DELETE', headers: headers() });
    expect(deleted.status).toBe(200);
    expect(await deleted.json()).toEqual({});
    const error = await ai.files.get({ name: names[0] ?? '' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect((error as ApiError).status).toBe(404);
    const again = await fetch(`${harness.url}/v1beta/${names[0]}`, { method: 'DELETE', headers: headers() });
    expect(again.status).toBe(404);
    expect(await again.json()).toMatchObject({ error: { code: 404, status: 'NOT_FOUND' } });
  });

  it('speaks the resumable protocol: absolute upload URL, status headers, offsets checked', async () => {
    const body = Buffer.from('{"key":"a"}\n{"key":"b"}\n');
    const start = await startUpload(body.length);
    expect(start.status).toBe(200);
    expect(start.headers.get('x-goog-upload-status')).toBe('active');
    const uploadUrl = start.headers.get('x-goog-upload-url') ?? '';
    expect(uploadUrl.startsWith(`${harness.url}/upload/v1beta/files?upload_id=`)).toBe(true);

    // The upload URL is the credential: chunks need no API key (as in Google's own curl sample).
    const chunk = (command: string, offset: number, data: Buffer) =>
      fetch(uploadUrl, { method: 'POST', headers: { 'x-goog-upload-command': command, 'x-goog-upload-offset': String(offset) }, body: data });

    const firstPart = await chunk('upload', 0, body.subarray(0, 10));
    expect(firstPart.status).toBe(200);
    expect(firstPart.headers.get('x-goog-upload-status')).toBe('active');

    const wrongOffset = await chunk('upload', 3, body.subarray(10));
    expect(wrongOffset.status).toBe(400);
    expect(await wrongOffset.json()).toMatchObject({ error: { code: 400, status: 'INVALID_ARGUMENT' } });

    const last = await chunk('upload, finalize', 10, body.subarray(10));
    expect(last.status).toBe(200);
    expect(last.headers.get('x-goog-upload-status')).toBe('final');
    const { file } = (await last.json()) as { file: Record<string, unknown> };
    expect(file).toMatchObject({ displayName: 'raw upload', mimeType: 'application/jsonl', sizeBytes: String(body.length), source: 'UPLOADED' });

    const finished = await chunk('upload, finalize', body.length, Buffer.alloc(0));
    expect(finished.status).toBe(404);
  });

  it('accepts the whole body in one `upload, finalize` and rejects oversize uploads with 400', async () => {
    const start = await startUpload(5);
    const done = await fetch(start.headers.get('x-goog-upload-url') ?? '', {
      method: 'POST',
      headers: { 'x-goog-upload-command': 'upload, finalize', 'x-goog-upload-offset': '0' },
      body: 'hello',
    });
    expect(done.headers.get('x-goog-upload-status')).toBe('final');
    expect(((await done.json()) as { file: { sizeBytes: string } }).file.sizeBytes).toBe('5');

    const declaredTooBig = await startUpload(13 * 1024 * 1024);
    expect(declaredTooBig.status).toBe(400);
    expect(await declaredTooBig.json()).toMatchObject({ error: { code: 400, status: 'INVALID_ARGUMENT' } });

    const liar = await startUpload(4);
    const overflow = await fetch(liar.headers.get('x-goog-upload-url') ?? '', {
      method: 'POST',
      headers: { 'x-goog-upload-command': 'upload, finalize', 'x-goog-upload-offset': '0' },
      body: 'more than four bytes',
    });
    expect(overflow.status).toBe(400);
    expect(await overflow.json()).toMatchObject({ error: { code: 400, status: 'INVALID_ARGUMENT' } });

    const short = await startUpload(10);
    const tooShort = await fetch(short.headers.get('x-goog-upload-url') ?? '', {
      method: 'POST',
      headers: { 'x-goog-upload-command': 'upload, finalize', 'x-goog-upload-offset': '0' },
      body: 'abc',
    });
    expect(tooShort.status).toBe(400);
  });

  it('authenticates the API routes', async () => {
    const noKey = await fetch(`${harness.url}/v1beta/files`);
    expect(noKey.status).toBe(403);
    expect(await noKey.json()).toMatchObject({ error: { code: 403, status: 'PERMISSION_DENIED' } });
    const badKey = await fetch(`${harness.url}/upload/v1beta/files`, {
      method: 'POST',
      headers: { 'x-goog-api-key': 'wrong', 'x-goog-upload-protocol': 'resumable', 'x-goog-upload-command': 'start' },
      body: '{}',
    });
    expect(badKey.status).toBe(400);
    const download = await fetch(`${harness.url}/v1beta/files/abc:download?alt=media`);
    expect(download.status).toBe(403);
  });

  it('expires files 48 h after creation: 404 on get and download, gone from the list', async () => {
    const path = join(dir, 'short-lived.txt');
    await writeFile(path, 'bye');
    const file = await ai.files.upload({ file: path, config: { mimeType: 'text/plain' } });
    harness.advanceClock(48 * HOUR - 1000);
    expect((await fetch(`${harness.url}/v1beta/${file.name}`, { headers: headers() })).status).toBe(200);
    harness.advanceClock(2000);
    expect((await fetch(`${harness.url}/v1beta/${file.name}`, { headers: headers() })).status).toBe(404);
    expect((await fetch(`${harness.url}/v1beta/${file.name}:download?alt=media`, { headers: headers() })).status).toBe(404);
    expect(await (await fetch(`${harness.url}/v1beta/files`, { headers: headers() })).json()).toEqual({});
  });
});

import { execFileSync } from 'node:child_process';
import { once } from 'node:events';
import { createReadStream } from 'node:fs';
import { link, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { BunchError } from '../../../src/errors/bunch-error.js';
import { createGeminiClient } from '../../../src/gemini/gemini-client.js';

/**
 * Transport behaviour of the client against a bare local HTTP server: what a socket does mid-body,
 * redirects, headers. Gemini semantics (errors, safety, images) are tested against the emulator.
 */
const API_KEY = ['AIza', 'TransportTestKey0123456789abcdef'].join(''); // assembled: a fake key, kept out of secret scanners

interface Seen {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: Buffer;
}

const servers: Server[] = [];
const dirs: string[] = [];

afterEach(async () => {
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
});

async function serve(handler: (req: IncomingMessage, res: ServerResponse, body: Buffer) => void): Promise<{ url: string; seen: Seen[] }> {
  const seen: Seen[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
      handler(req, res, body);
    });
  });
  servers.push(server);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen };
}

async function failure(promise: Promise<unknown>): Promise<BunchError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(BunchError);
    return error as BunchError;
  }
  throw new Error('expected a BunchError');
}

const okBody = JSON.stringify({
  candidates: [{ content: { parts: [{ text: 'hello' }] }, finishReason: 'STOP' }],
  usageMetadata: { promptTokenCount: 3, candidatesTokenCount: 1, totalTokenCount: 4 },
});

/** A download answer that announces 1000 bytes and drops the socket after 100, and a temp dir for it. */
async function serveCutOffDownload(): Promise<{ url: string; dir: string }> {
  const { url } = await serve((_req, res) => {
    res.writeHead(200, { 'content-length': '1000' });
    res.write('x'.repeat(100), () => res.socket?.destroy());
  });
  const dir = await mkdtemp(join(tmpdir(), 'bunch-dl-'));
  dirs.push(dir);
  return { url, dir };
}

describe('gemini client transport', () => {
  it('sends the key as x-goog-api-key, never in the URL, to /v1beta/models/{model}:generateContent', async () => {
    const { url, seen } = await serve((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(okBody));
    const client = createGeminiClient({ apiKey: API_KEY, baseUrl: `${url}/` });
    const result = await client.generateContent('gemini-3.1-flash-image-preview', { contents: [] }, { timeoutMs: 5000 });
    expect(result.httpStatus).toBe(200);
    expect(result.response.text).toBe('hello');
    expect(result.latencyMs).toBeGreaterThanOrEqual(0);
    expect(seen).toHaveLength(1);
    expect(seen[0]?.method).toBe('POST');
    expect(seen[0]?.url).toBe('/v1beta/models/gemini-3.1-flash-image-preview:generateContent');
    expect(seen[0]?.headers['x-goog-api-key']).toBe(API_KEY);
    expect(seen[0]?.headers['content-type']).toBe('application/json');
    expect(seen[0]?.headers['user-agent']).toBe('bunch');
    expect(JSON.parse(seen[0]?.body.toString() ?? '')).toEqual({ contents: [] });
  });

  it('a server that stalls mid-body still ends by the deadline with E_TIMEOUT', async () => {
    const { url } = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(okBody.length) });
      res.write(okBody.slice(0, 20)); // and never finishes
    });
    const client = createGeminiClient({ apiKey: API_KEY, baseUrl: url });
    const error = await failure(client.generateContent('m', {}, { timeoutMs: 200 }));
    expect(error.code).toBe('E_TIMEOUT');
    expect(error.retryable).toBe(true);
  });

  it('a socket closed mid-body is a truncated answer: E_MALFORMED_RESPONSE', async () => {
    const { url } = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(okBody.length) });
      res.write(okBody.slice(0, 20), () => res.socket?.destroy());
    });
    const client = createGeminiClient({ apiKey: API_KEY, baseUrl: url });
    const error = await failure(client.generateContent('m', {}, { timeoutMs: 5000 }));
    expect(error.code).toBe('E_MALFORMED_RESPONSE');
  });

  it('a connection dropped before any answer is E_NETWORK', async () => {
    const { url } = await serve((req) => req.socket.destroy());
    const client = createGeminiClient({ apiKey: API_KEY, baseUrl: url });
    const error = await failure(client.generateContent('m', {}, { timeoutMs: 5000 }));
    expect(error.code).toBe('E_NETWORK');
    expect(error.message).not.toContain(API_KEY);
  });

  it('the caller aborting is E_CANCELLED', async () => {
    const { url } = await serve(() => undefined); // never answers
    const client = createGeminiClient({ apiKey: API_KEY, baseUrl: url });
    const controller = new AbortController();
    const pending = client.generateContent('m', {}, { timeoutMs: 60_000, signal: controller.signal });
    controller.abort();
    const error = await failure(pending);
    expect(error.code).toBe('E_CANCELLED');
    expect(error.retryable).toBe(false);
  });

  it('an HTTP error echoing the key has it redacted', async () => {
    const { url } = await serve((_req, res) =>
      res.writeHead(400, { 'content-type': 'application/json' }).end(
        JSON.stringify({ error: { code: 400, status: 'INVALID_ARGUMENT', message: `API key not valid: ${API_KEY}` } }),
      ),
    );
    const client = createGeminiClient({ apiKey: API_KEY, baseUrl: url });
    const error = await failure(client.request('GET', 'batches/x', { timeoutMs: 5000 }));
    expect(error.code).toBe('E_AUTH');
    expect(error.message).not.toContain(API_KEY);
  });

  it('follows a GET redirect to another origin without sending the key there', async () => {
    const other = await serve((_req, res) => res.writeHead(200).end('result-bytes'));
    const { url, seen } = await serve((_req, res) => res.writeHead(302, { location: `${other.url}/signed?x=1` }).end());
    const dir = await mkdtemp(join(tmpdir(), 'bunch-dl-'));
    dirs.push(dir);
    const client = createGeminiClient({ apiKey: API_KEY, baseUrl: url });
    const target = join(dir, 'out.jsonl');
    const result = await client.download('files/batch-1:download?alt=media', target, { timeoutMs: 5000 });
    expect(result.bytes).toBe('result-bytes'.length);
    expect(await readFile(target, 'utf8')).toBe('result-bytes');
    expect(seen[0]?.url).toBe('/v1beta/files/batch-1:download?alt=media');
    expect(seen[0]?.headers['x-goog-api-key']).toBe(API_KEY);
    expect(other.seen[0]?.headers['x-goog-api-key']).toBeUndefined();
  });

  it('a download cut off mid-body leaves no file behind', async () => {
    const { url, dir } = await serveCutOffDownload();
    const client = createGeminiClient({ apiKey: API_KEY, baseUrl: url });
    const target = join(dir, 'out.jsonl');
    const error = await failure(client.download('files/x:download', target, { timeoutMs: 5000 }));
    expect(error.code).toBe('E_MALFORMED_RESPONSE');
    await expect(stat(target)).rejects.toThrow();
    await expect(stat(`${target}.partial`)).rejects.toThrow();
  });

  it('a cut-off download settles only after its file is closed and removed', async () => {
    const { url, dir } = await serveCutOffDownload();
    const target = join(dir, 'out.jsonl');
    // The partial path is a FIFO: opening it for writing blocks until a reader comes, so the file's
    // open is still pending when the cut arrives (as when the libuv pool is busy with other work).
    // A second name lets the test be that reader even if the path has been removed.
    execFileSync('mkfifo', [`${target}.partial`]);
    await link(`${target}.partial`, join(dir, 'reader-end'));
    const client = createGeminiClient({ apiKey: API_KEY, baseUrl: url });
    let settled = false;
    const download = failure(client.download('files/x:download', target, { timeoutMs: 30_000 })).finally(() => {
      settled = true;
    });
    await delay(300);
    // Settling now would leave an open to land later: it would create (or truncate) the partial
    // file after the cleanup, under a retry writing the same path.
    expect(settled).toBe(false);
    const reader = createReadStream(join(dir, 'reader-end'));
    const readerClosed = once(reader, 'close');
    reader.resume();
    const error = await download;
    expect(error.code).toBe('E_MALFORMED_RESPONSE');
    await readerClosed;
    await expect(stat(`${target}.partial`)).rejects.toThrow();
  });

  it('a destination that cannot be written is E_STORAGE', async () => {
    const { url } = await serve((_req, res) => res.writeHead(200).end('result-bytes'));
    const client = createGeminiClient({ apiKey: API_KEY, baseUrl: url });
    const target = join(tmpdir(), 'bunch-no-such-dir-for-test', 'out.jsonl');
    const error = await failure(client.download('files/x:download', target, { timeoutMs: 5000 }));
    expect(error.code).toBe('E_STORAGE');
  });

  it('uploads in chunks with offsets and finalizes', async () => {
    const received: Buffer[] = [];
    let fileUrl = '';
    const { url, seen } = await serve((req, res, body) => {
      if (req.url === '/upload/v1beta/files') {
        res.writeHead(200, { 'x-goog-upload-url': `http://upload.invalid/upload/v1beta/files?upload_id=abc`, 'x-goog-upload-status': 'active' }).end();
        return;
      }
      received.push(body);
      const last = req.headers['x-goog-upload-command'] === 'upload, finalize';
      res.writeHead(200, { 'x-goog-upload-status': last ? 'final' : 'active', 'content-type': 'application/json' });
      res.end(last ? JSON.stringify({ file: { name: 'files/abc', mimeType: 'application/jsonl', sizeBytes: '10', state: 'ACTIVE' } }) : '');
    });
    fileUrl = url;
    const dir = await mkdtemp(join(tmpdir(), 'bunch-up-'));
    dirs.push(dir);
    const path = join(dir, 'in.jsonl');
    await writeFile(path, '0123456789');
    const client = createGeminiClient({ apiKey: API_KEY, baseUrl: fileUrl });
    const file = await client.uploadResumable(path, { mimeType: 'application/jsonl', displayName: 'shard-1', chunkBytes: 4 });
    expect(file).toEqual({ name: 'files/abc', mimeType: 'application/jsonl', sizeBytes: '10', state: 'ACTIVE' });

    const [start, ...chunks] = seen;
    expect(start?.headers['x-goog-upload-protocol']).toBe('resumable');
    expect(start?.headers['x-goog-upload-command']).toBe('start');
    expect(start?.headers['x-goog-upload-header-content-length']).toBe('10');
    expect(start?.headers['x-goog-upload-header-content-type']).toBe('application/jsonl');
    expect(JSON.parse(start?.body.toString() ?? '')).toEqual({ file: { displayName: 'shard-1' } });
    // The upload URL's host is replaced by the configured origin.
    expect(chunks.map((c) => c.url)).toEqual(Array(3).fill('/upload/v1beta/files?upload_id=abc'));
    expect(chunks.map((c) => c.headers['x-goog-upload-offset'])).toEqual(['0', '4', '8']);
    expect(chunks.map((c) => c.headers['x-goog-upload-command'])).toEqual(['upload', 'upload', 'upload, finalize']);
    expect(Buffer.concat(received).toString()).toBe('0123456789');
  });

  it('refuses to start without an API key or with a bad base URL', () => {
    expect(() => createGeminiClient({ apiKey: '' })).toThrow(expect.objectContaining({ code: 'E_AUTH' }));
    expect(() => createGeminiClient({ apiKey: API_KEY, baseUrl: 'ftp://x' })).toThrow(expect.objectContaining({ code: 'E_CONFIG' }));
    expect(() => createGeminiClient({ apiKey: API_KEY, baseUrl: 'http://x/?key=1' })).toThrow(expect.objectContaining({ code: 'E_CONFIG' }));
  });
});

import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { GenerateOutcome } from '../../../src/emulator/emulator-context.js';
import { startEmulator } from '../../../src/emulator/start-emulator.js';
import { startHarness, TEST_API_KEY, type Harness } from './files-batch-harness.js';

const MODEL = 'gemini-3.1-flash-image-preview';
const ITEMS = 1000;

/**
 * A 1,000-item batch whose every result carries a realistic-size image (the emulator core's
 * realisticPayload PNG at 1K, ~2.4 MB of JSON per line, ~2.4 GB of results): running it and
 * downloading the result file must keep the process (server and client together) under 300 MB RSS.
 */
describe('emulator Batch API memory', () => {
  let harness: Harness | undefined;
  let dir: string | undefined;

  afterEach(async () => {
    await harness?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it(`runs and serves ${ITEMS} realistic-size results with bounded RSS`, { timeout: 180_000 }, async () => {
    // One realistic answer from the real generator, replayed for every item (generating 1,000
    // noisy PNGs would only measure the image encoder, not the batch engine).
    const core = await startEmulator({ realisticPayload: true });
    const sample = await core.context.generate(MODEL, { contents: [{ role: 'user', parts: [{ text: 'a sofa' }] }] });
    await core.close();
    expect(sample.ok).toBe(true);
    const lineBytes = JSON.stringify(sample).length;
    expect(lineBytes).toBeGreaterThan(1_500_000);

    harness = await startHarness({
      batch: { pendingMs: 0, runningMs: 0 },
      generate: async (): Promise<GenerateOutcome> => sample,
    });
    dir = await mkdtemp(join(tmpdir(), 'bunch-batch-memory-'));
    const input = join(dir, 'input.jsonl');
    const request = { contents: [{ role: 'user', parts: [{ text: 'a sofa' }] }] };
    await writeFile(input, Array.from({ length: ITEMS }, (_, i) => JSON.stringify({ key: `k${i}`, request })).join('\n'));
    const headers = { 'x-goog-api-key': TEST_API_KEY };

    let peakRss = process.memoryUsage().rss;
    const sampler = setInterval(() => {
      peakRss = Math.max(peakRss, process.memoryUsage().rss);
    }, 20);
    try {
      const start = await fetch(`${harness.url}/upload/v1beta/files`, {
        method: 'POST',
        headers: { ...headers, 'x-goog-upload-protocol': 'resumable', 'x-goog-upload-command': 'start' },
        body: JSON.stringify({ file: { mimeType: 'application/jsonl' } }),
      });
      const upload = await fetch(start.headers.get('x-goog-upload-url') ?? '', {
        method: 'POST',
        headers: { 'x-goog-upload-command': 'upload, finalize', 'x-goog-upload-offset': '0' },
        body: await readFile(input),
      });
      const { file } = (await upload.json()) as { file: { name: string } };
      const created = await fetch(`${harness.url}/v1beta/models/${MODEL}:batchGenerateContent`, {
        method: 'POST',
        headers,
        body: JSON.stringify({ batch: { displayName: 'memory', inputConfig: { fileName: file.name } } }),
      });
      const { name } = (await created.json()) as { name: string };
      let op: { done?: boolean; metadata: { state: string; output?: { responsesFile: string } } };
      const runStarted = Date.now();
      for (;;) {
        op = (await (await fetch(`${harness.url}/v1beta/${name}`, { headers })).json()) as typeof op;
        if (op.done) break;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      expect(op.metadata.state).toBe('BATCH_STATE_SUCCEEDED');
      console.info(`[batch-memory] batch ran in ${Date.now() - runStarted} ms`);
      const downloadStarted = Date.now();

      // Stream the download and check each line's key without holding the body.
      const download = await fetch(`${harness.url}/v1beta/${op.metadata.output?.responsesFile}:download?alt=media`, { headers });
      expect(download.status).toBe(200);
      let lines = 0;
      let total = 0;
      // The first bytes of the current line, collected across chunk boundaries (16 hold the key).
      let prefix: Buffer | undefined = Buffer.alloc(0);
      const prefixes: string[] = [];
      const takePrefix = (bytes: Buffer, from: number): void => {
        if (prefix === undefined || prefix.length >= 16) return;
        prefix = Buffer.concat([prefix, bytes.subarray(from, from + 16 - prefix.length)]);
        if (prefix.length >= 16) {
          prefixes.push(prefix.toString('utf8'));
          prefix = undefined;
        }
      };
      for await (const chunk of download.body as unknown as AsyncIterable<Uint8Array>) {
        const bytes = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.length);
        total += bytes.length;
        let from = 0;
        for (;;) {
          takePrefix(bytes, from);
          const newline = bytes.indexOf(0x0a, from);
          if (newline === -1) break;
          lines += 1;
          from = newline + 1;
          prefix = Buffer.alloc(0);
        }
      }
      expect(lines).toBe(ITEMS);
      expect(prefixes).toHaveLength(ITEMS);
      prefixes.forEach((prefix, index) => expect(prefix.startsWith(`{"key":"k${index}",`)).toBe(true));
      expect(total).toBeGreaterThan(ITEMS * 1_500_000);
      console.info(`[batch-memory] download of ${Math.round(total / 1e6)} MB took ${Date.now() - downloadStarted} ms`);
    } finally {
      clearInterval(sampler);
    }
    console.info(`[batch-memory] ${ITEMS} items of ~${(lineBytes / 1e6).toFixed(1)} MB: peak RSS ${Math.round(peakRss / 1e6)} MB`);
    expect(peakRss).toBeLessThan(300 * 1024 * 1024);
  });
});

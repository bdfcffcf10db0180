/**
 * Run as `node --expose-gc --import tsx memory-stages-child.ts <baseUrl> <apiKey> <outDir>`:
 * makes one 4K generateContent call and walks the worker's path step by step with the library's
 * own functions (body text, JSON.parse, response parsing, strict base64 decode + checks, local
 * store write), holding every intermediate, and prints one JSON line: the growth of RSS, V8 heap
 * and off-heap memory at each step. That is where one in-flight item's memory goes.
 */
import { decodeImage } from '../../src/image/decode-image.js';
import { parseGenerateResponse } from '../../src/gemini/parse-generate-response.js';
import { openObjectStore } from '../../src/storage/open-object-store.js';
import { BENCH_MODEL, benchRequest } from './bench-job.js';

interface Stage {
  stage: string;
  rssMb: number;
  heapMb: number;
  externalMb: number;
}

const [baseUrl, apiKey, outDir] = process.argv.slice(2);
const gc = (globalThis as { gc?: () => void }).gc;
if (!baseUrl || !apiKey || !outDir || !gc) throw new Error('usage: node --expose-gc --import tsx memory-stages-child.ts <baseUrl> <apiKey> <outDir>');

const stages: Stage[] = [];
const mb = (bytes: number) => Math.round((bytes / 1048576) * 10) / 10;
const mark = (stage: string): void => {
  const usage = process.memoryUsage();
  stages.push({ stage, rssMb: mb(usage.rss), heapMb: mb(usage.heapUsed), externalMb: mb(usage.external) });
};

async function probe(): Promise<void> {
  const store = openObjectStore(`file://${outDir}`);
  gc?.();
  mark('before call');
  const response = await fetch(`${baseUrl}/v1beta/models/${BENCH_MODEL}:generateContent`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-goog-api-key': apiKey as string },
    body: JSON.stringify(benchRequest(1, '4K')),
  });
  const text = await response.text();
  mark('body as string (response.text)');
  gc?.();
  mark('  after GC (only the string kept)');
  const json: unknown = JSON.parse(text);
  mark('JSON.parse (second copy of the base64)');
  const parsed = parseGenerateResponse(json);
  mark('parseGenerateResponse (zod)');
  const part = parsed.images[0];
  if (!part) throw new Error('no image');
  const decoded = decodeImage(part, { width: 4096, height: 4096 });
  mark('decodeImage (Buffer + sha256)');
  await store.put('probe.png', decoded.bytes, { contentType: decoded.mimeType });
  mark('store.put (local, fsync)');
  gc?.();
  mark('  after GC (everything above still referenced)');
  console.log(JSON.stringify({ bodyChars: text.length, base64Chars: part.base64.length, pngBytes: decoded.byteLength, stages }));
  await store.close();
}

await probe();

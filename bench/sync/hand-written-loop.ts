import { openObjectStore } from '../../src/storage/open-object-store.js';
import { BENCH_MODEL, benchRequest, type BenchJobOptions } from './bench-job.js';
import type { ThroughputSample } from './raw-bullmq-noop.js';

/**
 * Baseline (b): what a user would write by hand instead of bunch. A fixed number of async loops
 * pull the next row index, POST generateContent to the emulator (plain fetch, API key header),
 * parse the JSON, decode the first image's base64 and write image and caption to the same kind of
 * store bunch writes to (LocalObjectStore: atomic, fsynced writes). No queue, no retries, no
 * idempotency marker, no manifest, no Redis: everything bunch adds is what (c) minus (b) costs.
 */
export interface HandLoopOptions {
  baseUrl: string;
  apiKey: string;
  outputUrl: string;
  items: number;
  concurrency: number;
  imageSize: BenchJobOptions['imageSize'];
  /** Called right before the clock starts. */
  onStart?: () => void;
  /**
   * Also write a small JSON marker per item, as bunch does as its commit point, so the comparison
   * can tell storage cost (one more fsynced object per item) from queue and Redis cost.
   */
  writeMarker?: boolean;
}

interface Part {
  text?: string;
  inlineData?: { mimeType: string; data: string };
}

interface Answer {
  candidates?: { content?: { parts?: Part[] } }[];
}

export interface HandLoopResult extends ThroughputSample {
  /** Seconds from the start to each item's stored caption, ascending. */
  completions: number[];
}

export async function runHandWrittenLoop(options: HandLoopOptions): Promise<HandLoopResult> {
  const store = openObjectStore(options.outputUrl);
  const url = `${options.baseUrl}/v1beta/models/${BENCH_MODEL}:generateContent`;
  let next = 1;
  const completions: number[] = [];
  let started = 0;
  const one = async (index: number): Promise<void> => {
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-goog-api-key': options.apiKey },
      body: JSON.stringify(benchRequest(index, options.imageSize)),
    });
    if (!response.ok) throw new Error(`item ${index}: HTTP ${response.status}`);
    const answer = (await response.json()) as Answer;
    const parts = answer.candidates?.[0]?.content?.parts ?? [];
    const image = parts.find((part) => part.inlineData)?.inlineData;
    if (!image) throw new Error(`item ${index}: no image`);
    const key = `SKU-${String(index).padStart(6, '0')}`;
    await store.put(`${key}/default.png`, Buffer.from(image.data, 'base64'), { contentType: image.mimeType });
    const caption = parts.map((part) => part.text ?? '').join('');
    if (caption !== '') await store.put(`${key}/default.txt`, caption, { contentType: 'text/plain; charset=utf-8' });
    if (options.writeMarker) {
      await store.put(`${key}/default.done.json`, JSON.stringify({ key, index, bytes: image.data.length }), { contentType: 'application/json' });
    }
  };
  const lane = async (): Promise<void> => {
    while (next <= options.items) {
      const index = next;
      next += 1;
      await one(index);
      completions.push((performance.now() - started) / 1000);
    }
  };
  try {
    options.onStart?.();
    started = performance.now();
    await Promise.all(Array.from({ length: options.concurrency }, lane));
    const seconds = (performance.now() - started) / 1000;
    return { items: options.items, seconds, itemsPerSecond: options.items / seconds, completions };
  } finally {
    await store.close();
  }
}

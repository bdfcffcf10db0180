import { writeFile, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { stringify } from 'yaml';

/**
 * Writes a catalog of `items` products and a sync-lane job file over it, the way an operator
 * would, and returns the job file path. Titles differ per row so every prompt (and every emulated
 * image) is distinct: nothing is served from a cache anywhere.
 */
export interface BenchJobOptions {
  dir: string;
  name: string;
  items: number;
  imageSize: '512' | '1K' | '2K' | '4K';
  outputUrl: string;
}

export const BENCH_MODEL = 'gemini-3.1-flash-image-preview';

export function benchPrompt(title: string): string {
  return `Studio product photo of ${title}`;
}

export function benchTitle(index: number): string {
  return `Bench product ${index}`;
}

export async function writeBenchJob(options: BenchJobOptions): Promise<string> {
  await mkdir(options.dir, { recursive: true });
  const rows = ['sku,title'];
  for (let i = 1; i <= options.items; i += 1) rows.push(`SKU-${String(i).padStart(6, '0')},${benchTitle(i)}`);
  const catalogFile = path.join(options.dir, `${options.name}.csv`);
  await writeFile(catalogFile, rows.join('\n') + '\n');
  const job = {
    name: options.name,
    catalog: { path: catalogFile, key: 'sku' },
    model: BENCH_MODEL,
    prompt: benchPrompt('{{title}}'),
    generation: { responseModalities: ['IMAGE', 'TEXT'], imageConfig: { aspectRatio: '1:1', imageSize: options.imageSize } },
    lane: 'sync',
    // No faults are injected, so retries never happen; the defaults only matter if something breaks.
    sync: { attempts: 3 },
    output: { url: options.outputUrl },
    // The gallery is made by a report job after the run is finalized, outside every clock here;
    // left on, its 400 thumbnails were still being made while the next part was timed.
    report: { gallery: false },
  };
  const jobFile = path.join(options.dir, `${options.name}.yaml`);
  await writeFile(jobFile, stringify(job));
  return jobFile;
}

/** The generateContent body the job above produces for one row, for the hand-written loop. */
export function benchRequest(index: number, imageSize: BenchJobOptions['imageSize']): object {
  return {
    contents: [{ role: 'user', parts: [{ text: benchPrompt(benchTitle(index)) }] }],
    generationConfig: { responseModalities: ['IMAGE', 'TEXT'], imageConfig: { aspectRatio: '1:1', imageSize } },
  };
}

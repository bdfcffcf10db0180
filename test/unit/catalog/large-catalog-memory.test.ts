import { createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { once } from 'node:events';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it, onTestFinished } from 'vitest';
import { readCatalog } from '../../../src/catalog/read-catalog.js';
import { resolveJob } from '../../../src/spec/resolve-job.js';

const ROWS = 200_000;

/** A real GC before each sample, so the measure is what the reader retains, not garbage not yet collected. */
function collectGarbage(): void {
  setFlagsFromString('--expose-gc');
  (runInNewContext('gc') as () => void)();
}

function retainedHeap(): number {
  collectGarbage();
  return process.memoryUsage().heapUsed;
}
const FILLER = 'x'.repeat(180);

async function writeCsv(file: string): Promise<void> {
  const out = createWriteStream(file);
  out.write('sku,title,description\n');
  for (let index = 0; index < ROWS; index++) {
    if (!out.write(`SKU-${index},"Product ${index}, size M","${FILLER}"\n`)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
}

describe('a 200k-row CSV (~40 MB)', () => {
  it('is read as a stream: retained heap stays far below the file size', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'bunch-large-'));
    onTestFinished(() => rm(dir, { recursive: true, force: true }));
    await writeCsv(path.join(dir, 'big.csv'));
    const job = resolveJob(
      {
        name: 'big',
        catalog: { path: 'big.csv', key: 'sku' },
        model: 'gemini-3.1-flash-image-preview',
        prompt: 'Photo of {{title}}: {{description}}',
        output: { url: 'file://out' },
      },
      { file: path.join(dir, 'job.yaml') },
    );
    const baseline = retainedHeap();
    let peak = 0;
    let rows = 0;
    let rejected = 0;
    let lastKey = '';
    for await (const event of readCatalog(job)) {
      if (event.kind !== 'row') {
        rejected++;
        continue;
      }
      rows++;
      lastKey = event.row.key;
      if (rows % 40_000 === 0) peak = Math.max(peak, retainedHeap() - baseline);
    }
    expect(rejected).toBe(0);
    expect(rows).toBe(ROWS);
    expect(lastKey).toBe(`SKU-${ROWS - 1}`);
    // The only thing that grows is the duplicate-key map (keys only); the file is ~40 MB.
    expect(peak).toBeLessThan(50 * 1024 * 1024);
    console.info(`200k-row CSV: retained heap growth ${(peak / 1024 / 1024).toFixed(1)} MB`);
  });
});

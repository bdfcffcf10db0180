import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { planRun } from '../../../src/lanes/plan-run.js';
import { resolveJob } from '../../../src/spec/resolve-job.js';

describe('planRun chunks', () => {
  it('start small and double up to the full size, so workers start after a few rows, not a whole chunk; every row once, in order', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'bunch-plan-chunks-'));
    try {
      const rows = Array.from({ length: 600 }, (_, i) => `SKU-${i},Thing ${i}`);
      await writeFile(path.join(dir, 'c.csv'), ['sku,title', ...rows].join('\n') + '\n');
      const job = resolveJob(
        { name: 'chunks', catalog: { path: 'c.csv', key: 'sku' }, model: 'gemini-3.1-flash-image-preview', prompt: 'Photo of {{title}}', output: { url: 'file:///unused' } },
        { file: path.join(dir, 'job.yaml') },
      );
      const sizes: number[] = [];
      const keys: string[] = [];
      for await (const step of planRun(job, { readMarker: async () => undefined })) {
        if (step.kind !== 'chunk') continue;
        sizes.push(step.items);
        keys.push(...step.generate.map((work) => work.target.rowKey));
      }
      expect(sizes).toEqual([16, 32, 64, 128, 250, 110]);
      expect(keys).toEqual(Array.from({ length: 600 }, (_, i) => `SKU-${i}`));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

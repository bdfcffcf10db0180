import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { ManifestItemLine } from '../../../src/manifest/manifest-line.js';
import { startBunchStack, type BunchStack } from '../../helpers/bunch-stack.js';

let stack: BunchStack | undefined;
afterEach(async () => {
  await stack?.stop();
  stack = undefined;
});

describe('planning that breaks off mid-catalog', () => {
  it('stops the run: dispatched items end cancelled or succeeded, the run finalizes as aborted', async () => {
    stack = await startBunchStack({ concurrency: 2 });
    const s = stack;
    await s.startWorkers();
    // 300 good rows, then a JSON array that breaks off: the first 240 (chunks of 16, 32, 64 and
    // 128 rows) are already enqueued when the reader hits the broken part.
    const rows = Array.from({ length: 300 }, (_, i) => JSON.stringify({ sku: `J${i}`, title: `Thing ${i} [[emu:latency=50ms]]` }));
    const catalog = path.join(s.dir.path, 'broken.json');
    await writeFile(catalog, `[\n${rows.join(',\n')},\n{"sku": "J300", "title": ` );
    const jobFile = await s.writeJob({ catalogCsv: 'sku,title\n', job: { catalog: { path: catalog, key: 'sku' } } });

    await expect(s.start(jobFile)).rejects.toMatchObject({ code: 'E_CATALOG_FILE' });
    const [runId] = await s.plane.runs.listRuns(1);
    const meta = await s.waitForRun(runId!);
    expect(meta).toMatchObject({ status: 'aborted', stop: 'E_CATALOG_FILE', total: 240, terminal: 240 });
    expect(meta.counts.succeeded + meta.counts.cancelled).toBe(240);
    expect(meta.counts.cancelled).toBeGreaterThan(0);
    expect(meta.extra.planningError).toContain('broken.json');
    const manifest = (await s.readManifest(s.storeFor(meta.config.outputUrl), runId!)) as ManifestItemLine[];
    expect(manifest).toHaveLength(240);
    expect(manifest.filter((l) => l.status === 'cancelled').every((l) => l.errorCode === 'E_CATALOG_FILE')).toBe(true);
    expect(s.emulator.requestLog.stats().generations.total).toBe(meta.counts.succeeded);
  });
});

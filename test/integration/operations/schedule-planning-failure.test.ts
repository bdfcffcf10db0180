import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { readFirings } from '../../../src/schedules/schedule-queue.js';
import { startBunchStack, type BunchStack } from '../../helpers/bunch-stack.js';
import { runCli } from '../../helpers/run-cli.js';
import { waitFor } from '../../helpers/spawn-worker.js';

let stack: BunchStack | undefined;
afterEach(async () => {
  await stack?.stop();
  stack = undefined;
});

describe('a scheduled firing whose planning fails', () => {
  it('is not retried once its run exists: one aborted run, one failed firing naming it', async () => {
    stack = await startBunchStack({ concurrency: 2 });
    const s = stack;
    await s.startWorkers();
    const env = { REDIS_URL: s.redis.url, BUNCH_PREFIX: s.prefix };
    // The catalog breaks off after a few rows: the run is created, then planning fails.
    const rows = Array.from({ length: 5 }, (_, i) => JSON.stringify({ sku: `S${i}`, title: `Thing ${i}` }));
    const catalog = path.join(s.dir.path, 'broken.json');
    await writeFile(catalog, `[\n${rows.join(',\n')},\n{"sku": "S5", "title": `);
    const jobFile = await s.writeJob({ catalogCsv: 'sku,title\n', job: { catalog: { path: catalog, key: 'sku' } } });
    const added = await runCli(['schedule', 'add', jobFile, '--every', '1h', '--name', 'broken'], env);
    expect(added.code).toBe(0);

    await waitFor(async () => (await readFirings(s.plane.redis, s.prefix, 'broken', 50)).length > 0, 30_000, 'the first firing');
    // A retry of the firing would come 5 s later (exponential backoff from 5 s) and plan a second run.
    await new Promise((resolve) => setTimeout(resolve, 8000));
    const firings = await readFirings(s.plane.redis, s.prefix, 'broken', 50);
    const runIds = await s.plane.runs.listRuns(50);
    expect(runIds).toHaveLength(1);
    expect(firings).toHaveLength(1);
    expect(firings[0]).toMatchObject({ outcome: 'failed', runId: runIds[0] });
    expect(firings[0]!.reason).toMatch(/^E_CATALOG_FILE: /);
    const meta = await s.waitForRun(runIds[0]!);
    expect(meta).toMatchObject({ status: 'aborted', stop: 'E_CATALOG_FILE' });
    await runCli(['schedule', 'remove', 'broken'], env);
  }, 60_000);
});

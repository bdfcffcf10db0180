import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { releaseShardDependants } from '../../../src/lanes/batch/release-shard-dependants.js';
import { salvageItems, type SalvageDeps } from '../../../src/lanes/batch/salvage-items.js';
import { loadShardTargets } from '../../../src/lanes/batch/shard-items.js';
import { readShardState } from '../../../src/lanes/batch/shard-state.js';
import { requestFinalize } from '../../../src/lanes/run-queues.js';
import { silentLogger } from '../../../src/logging/create-logger.js';
import type { ManifestItemLine } from '../../../src/manifest/manifest-line.js';
import { runObjectKeys } from '../../../src/runs/run-keys.js';
import { startBunchStack, type BunchStack } from '../../helpers/bunch-stack.js';
import { batchJob } from '../batch/batch-harness.js';

/**
 * A hero that its batch did not serve is spilled to the sync lane and takes its dependants along;
 * when its shard then releases the dependants it still lists, they must not be made a second time
 * (once by the hero's sync job, once more in a `-d` wave batch).
 */
describe('hero → variants when the batch spills the hero to sync', () => {
  let stack: BunchStack;
  beforeAll(async () => {
    stack = await startBunchStack();
  });
  afterAll(async () => stack?.stop());

  it("releases the hero's dependants exactly once", async () => {
    const jobFile = await stack.writeJob({
      catalogCsv: 'sku,title\nA,Teapot\n',
      // The story's call takes a while, so the shard's release below runs while it is in flight.
      job: { ...batchJob(), variants: [{ name: 'hero' }, { name: 'story', from: 'hero', aspectRatio: '9:16', prompt: 'Story [[emu:latency=2000ms]]' }] },
    });
    const started = await stack.start(jobFile);
    expect(started).toMatchObject({ items: 2, batched: 1, shards: 1 });
    const runId = started.runId;
    // The shard is never submitted here: this test plays its batch coming back without the hero.
    await stack.plane.queues.batch.obliterate({ force: true });

    const store = stack.storeFor(started.outputUrl);
    const config = await stack.plane.runs.getConfig(runId);
    const deps: SalvageDeps = {
      runs: stack.plane.runs,
      store,
      config,
      generateQueue: stack.plane.queues.generate,
      batchQueue: stack.plane.queues.batch,
      logger: silentLogger(),
      onRunComplete: (id) => requestFinalize(stack.plane.queues.finalize, id),
    };
    const state = (await readShardState(stack.plane.runs, runId, 's0001'))!;
    const hero = [...(await loadShardTargets(store, runId, 's0001')).values()][0]!;
    const salvaged = await salvageItems(state, [{ target: hero, code: 'E_BATCH', message: 'not served' }], deps);
    expect(salvaged.spilled).toBe(1);

    // The sync lane makes the hero and releases its story.
    await stack.startWorkers();
    while (!(await stack.plane.runs.records.isTerminal(runId, hero.index))) await new Promise((resolve) => setTimeout(resolve, 20));

    // Meanwhile the shard, done collecting, releases what its sidecar lists: nothing, the sync lane does.
    expect(await releaseShardDependants('s0001', deps, Date.now())).toBe(0);
    expect(await store.head(runObjectKeys(runId).batchTargets('s0001-d'))).toBeUndefined();
    const meta = await stack.waitForRun(runId);
    expect(meta.counts).toEqual({ succeeded: 2, failed: 0, skipped: 0, cancelled: 0 });
    const manifest = (await stack.readManifest(store, runId)) as ManifestItemLine[];
    expect(manifest.map((line) => [line.itemKey, line.status, line.lane]).sort()).toEqual([
      ['A#hero', 'succeeded', 'sync'],
      ['A#story', 'succeeded', 'sync'],
    ]);
    expect(stack.emulator.requestLog.count({ route: 'generateContent', status: 200 })).toBe(2);
  });
});

import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { stringify } from 'yaml';
import { afterEach, describe, expect, it } from 'vitest';
import { shardStatesOf } from '../../../src/lanes/batch/shard-state.js';
import { startEmulator, type RunningEmulator } from '../../../src/emulator/start-emulator.js';
import { productCsv, startBunchStack, type BunchStack } from '../../helpers/bunch-stack.js';
import { tempDir, type TempDir } from '../../helpers/temp-dir.js';
import { waitFor } from '../../helpers/spawn-worker.js';
import { finishBatchRun, paidCalls, upstreamBatches } from './batch-harness.js';

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanup.length > 0) await cleanup.pop()!();
});

describe('batch lane after Redis is lost', () => {
  it('a new run adopts the batches an earlier run paid for instead of submitting them again', async () => {
    const emulator: RunningEmulator = await startEmulator({ profile: { batch: { pendingMs: 20, runningMs: 1500 } } });
    cleanup.push(() => emulator.close());
    const dir: TempDir = await tempDir('redis-loss');
    cleanup.push(() => dir.remove());
    await writeFile(path.join(dir.path, 'catalog.csv'), productCsv(8));
    const jobFile = path.join(dir.path, 'job.yaml');
    await writeFile(
      jobFile,
      stringify({
        name: 'redis-loss',
        catalog: { path: 'catalog.csv', key: 'sku' },
        model: 'gemini-3.1-flash-image-preview',
        prompt: 'Studio product photo of {{title}}',
        generation: { imageConfig: { aspectRatio: '1:1', imageSize: '512' } },
        lane: 'batch',
        batch: { deadline: '1h', pollInterval: '40ms', maxRequestsPerBatch: 4 },
        output: { url: 'file://out' },
      }),
    );

    // First run: both shards are submitted upstream, then its Redis disappears with the workers.
    const first: BunchStack = await startBunchStack({ sharedEmulator: emulator });
    await first.startWorkers();
    const run1 = await first.start(jobFile);
    expect(run1).toMatchObject({ lane: 'batch', shards: 2 });
    await waitFor(async () => shardStatesOf((await first.plane.runs.getMeta(run1.runId))!).every((s) => s.upstream), 20_000, 'both shards submitted');
    await first.stop();
    expect(await upstreamBatches({ emulator } as BunchStack)).toHaveLength(2);

    // Second run of the same job on a fresh Redis: same items, same shards, same content.
    const second = await startBunchStack({ sharedEmulator: emulator });
    cleanup.push(() => second.stop());
    await second.startWorkers();
    const run2 = await second.start(jobFile);
    expect(run2).toMatchObject({ lane: 'batch', shards: 2, batched: 8 });
    const { meta, shards } = await finishBatchRun(second, run2.runId, run2.outputUrl, 8);
    expect(meta.counts).toEqual({ succeeded: 8, failed: 0, skipped: 0, cancelled: 0 });
    expect(shards.map((s) => s.displayName.startsWith(`bunch:${run1.runId}:`))).toEqual([false, false]);
    expect(await upstreamBatches({ emulator } as BunchStack)).toHaveLength(2);
    expect(paidCalls({ emulator } as BunchStack)).toEqual({ http: 0, batch: 8 });
  });
});

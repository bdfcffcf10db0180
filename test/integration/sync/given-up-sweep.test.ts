import type { Job } from 'bullmq';
import { afterEach, describe, expect, it } from 'vitest';
import type { GenerateJobData } from '../../../src/lanes/sync/generate-job-data.js';
import { GENERATE_QUEUE } from '../../../src/lanes/run-queues.js';
import type { ManifestItemLine } from '../../../src/manifest/manifest-line.js';
import { sweepGivenUpJobs } from '../../../src/workers/sweep-given-up-jobs.js';
import { BATCH_QUEUE } from '../../../src/lanes/batch/batch-queue.js';
import { productCsv, startBunchStack, type BunchStack } from '../../helpers/bunch-stack.js';
import { batchJob, finishBatchRun, paidCalls } from '../batch/batch-harness.js';
import { failJobUnrecorded } from '../../helpers/fail-job-unrecorded.js';
import { RunContextCache } from '../../../src/lanes/run-context-cache.js';
import { silentLogger } from '../../../src/logging/create-logger.js';
import { givenUpItems } from '../../../src/workers/given-up-items.js';
import { givenUpSweepLockKey, givenUpSweepPlaceKey } from '../../../src/runs/run-keys.js';
import { redisSweepPlace } from '../../../src/workers/sweep-place.js';

/**
 * A generate job BullMQ failed for good is recorded from the `failed` event of the process that
 * failed it. When that process dies first, the job sits in the failed set with no record and the
 * run would wait for it forever; the fleet's sweep of the failed set records it.
 */
let stack: BunchStack | undefined;
afterEach(async () => {
  await stack?.stop();
  stack = undefined;
});

/** A hero with one `from:` dependant, its job failed for good with no record; the sweep's handling of it. */
async function heroJobFailed() {
  stack = await startBunchStack();
  const variants = [
    { name: 'main', prompt: 'Hero shot of {{title}}' },
    { name: 'story', from: 'main', aspectRatio: '9:16', prompt: 'The same scene as a 9:16 story' },
  ];
  const started = await stack.start(await stack.writeJob({ catalogCsv: 'sku,title\nS1,Lamp\n', job: { variants } }));
  await failJobUnrecorded(stack.redis.url, stack.prefix, GENERATE_QUEUE, 'lost');
  const { runs, queues } = stack.plane;
  const job = (await queues.generate.getFailed(0, 0))[0] as Job<GenerateJobData>;
  const contexts = new RunContextCache(runs, (url) => stack!.storeFor(url));
  const { sweep } = givenUpItems({ runs, contexts, generateQueue: queues.generate, onRunComplete: async () => {}, logger: silentLogger(), apiKey: 'k' });
  return { started, runs, job, contexts, sweep };
}

describe('a job failed for good with no record (its process died before recording it)', () => {
  it('is recorded failed by the sweep of a fleet started later, without a call, and the run completes', async () => {
    stack = await startBunchStack();
    const started = await stack.start(await stack.writeJob({ catalogCsv: 'sku,title\nS1,Lamp\nS2,Chair\n' }));
    await failJobUnrecorded(stack.redis.url, stack.prefix, GENERATE_QUEUE, 'worker lost while recording');
    expect(await stack.plane.runs.records.isTerminal(started.runId, 0)).toBe(false);
    await stack.startWorkers({ givenUpSweepGraceMs: 0 });

    const meta = await stack.waitForRun(started.runId, 15_000);
    expect(meta.counts).toEqual({ succeeded: 1, failed: 1, skipped: 0, cancelled: 0 });
    const lines = (await stack.readManifest(stack.storeFor(started.outputUrl), started.runId)) as ManifestItemLine[];
    const failed = lines.find((line) => line.status === 'failed');
    expect(failed).toMatchObject({ itemKey: 'S1#main', errorCode: 'E_INTERNAL' });
    expect(failed?.errorMessage).toBe('BullMQ failed this job and no record was made: worker lost while recording');
    // Only the other item was paid for.
    expect(stack.emulator.requestLog.count({ route: 'generateContent' })).toBe(1);
  });

  it('releases the dependants of an item recorded before its process died, and the run completes', async () => {
    stack = await startBunchStack();
    const variants = [
      { name: 'main', prompt: 'Hero shot of {{title}}' },
      { name: 'story', from: 'main', aspectRatio: '9:16', prompt: 'The same scene as a 9:16 story' },
    ];
    const started = await stack.start(await stack.writeJob({ catalogCsv: 'sku,title\nS1,Lamp\n', job: { variants } }));
    expect(started).toMatchObject({ items: 2 });
    await failJobUnrecorded(stack.redis.url, stack.prefix, GENERATE_QUEUE, 'worker lost while releasing');
    // The process got as far as the hero's record, then died before releasing its dependant.
    await stack.plane.runs.records.recordTerminal(started.runId, {
      index: 0, itemKey: 'S1#main', key: 'S1', variant: 'main', rowNumber: 2, status: 'failed', lane: 'sync', inputHash: 'h',
      model: 'm', costUsd: 0, attempts: 1, finishedAt: new Date().toISOString(), errorCode: 'E_INTERNAL', errorMessage: 'worker lost while releasing',
    });
    await stack.startWorkers({ givenUpSweepGraceMs: 0, givenUpSweepMs: 100 });

    const meta = await stack.waitForRun(started.runId, 10_000);
    expect(meta.counts).toEqual({ succeeded: 0, failed: 2, skipped: 0, cancelled: 0 });
    const lines = (await stack.readManifest(stack.storeFor(started.outputUrl), started.runId)) as ManifestItemLine[];
    expect(lines.find((line) => line.variant === 'story')).toMatchObject({ status: 'failed', errorCode: 'E_DEPENDENCY', attempts: 0 });
    expect(stack.emulator.requestLog.count({ route: 'generateContent' })).toBe(0);
  });

  it('waits on dependants only while they are this lane\'s to release and not all recorded', async () => {
    const { started, runs, job, sweep } = await heroJobFailed();
    const recordFailed = (index: number, variant: string) =>
      runs.records.recordTerminal(started.runId, {
        index, itemKey: `S1#${variant}`, key: 'S1', variant, rowNumber: 2, status: 'failed', lane: 'sync', inputHash: 'h',
        model: 'm', costUsd: 0, attempts: 1, finishedAt: new Date().toISOString(), errorCode: 'E_INTERNAL', errorMessage: 'x',
      });

    expect(await sweep.unhandled(job)).toBe(true); // no record
    await recordFailed(0, 'main');
    expect(await sweep.unhandled(job)).toBe(true); // recorded, its dependant waits, nobody claimed it
    await runs.claimRelease(started.runId, 0, 'sync');
    expect(await sweep.unhandled(job)).toBe(true); // claimed by this lane, the release never finished
    await runs.markReleased(started.runId, 0);
    expect(await sweep.unhandled(job)).toBe(false); // released: the dependant is queued, in flight
    await recordFailed(1, 'story');
    expect(await sweep.unhandled(job)).toBe(false); // every dependant recorded
  });

  it('a release that finished is marked, so the sweep does not release the same dependants pass after pass', async () => {
    const { started, runs, job, contexts, sweep } = await heroJobFailed();
    // The sweep records the hero and releases its dependant: queued, not yet made (no workers).
    expect(await sweep.unhandled(job)).toBe(true);
    await sweep.handle(job);
    expect(await runs.records.isTerminal(started.runId, 0)).toBe(true);
    expect(await runs.records.isTerminal(started.runId, 1)).toBe(true); // E_DEPENDENCY: the hero failed
    expect(await runs.releaseState(started.runId, 0)).toEqual({ owner: 'sync', finished: true });
    expect(await sweep.unhandled(job)).toBe(false);
    await contexts.close();
  });

  it('leaves dependants another owner claimed (a batch shard) to that owner', async () => {
    const { started, runs, job, sweep } = await heroJobFailed();
    await runs.records.recordTerminal(started.runId, {
      index: 0, itemKey: 'S1#main', key: 'S1', variant: 'main', rowNumber: 2, status: 'failed', lane: 'sync', inputHash: 'h',
      model: 'm', costUsd: 0, attempts: 1, finishedAt: new Date().toISOString(), errorCode: 'E_INTERNAL', errorMessage: 'x',
    });
    await runs.claimRelease(started.runId, 0, 's0000');
    expect(await sweep.unhandled(job)).toBe(false);
  });

  it('one fleet process sweeps at a time: while another holds the sweep, this one waits its turn', async () => {
    stack = await startBunchStack();
    const started = await stack.start(await stack.writeJob({ catalogCsv: 'sku,title\nS1,Lamp\n' }));
    await failJobUnrecorded(stack.redis.url, stack.prefix, GENERATE_QUEUE, 'worker lost while recording');
    const lock = givenUpSweepLockKey(stack.prefix);
    await stack.plane.redis.set(lock, 'another fleet process', 'PX', 60_000);
    await stack.startWorkers({ givenUpSweepGraceMs: 0, givenUpSweepMs: 50 });
    // Several of this process's passes come and go while the lock is held: none sweeps.
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(await stack.plane.runs.getMeta(started.runId)).toMatchObject({ status: 'running', terminal: 0 });
    expect(await stack.plane.redis.get(lock)).toBe('another fleet process');

    await stack.plane.redis.del(lock);
    const meta = await stack.waitForRun(started.runId, 15_000);
    expect(meta.counts).toEqual({ succeeded: 0, failed: 1, skipped: 0, cancelled: 0 });
  });

  it('batch lane: a shard job failed with nobody salvaging it is salvaged by the sweep (its items go to the sync lane)', async () => {
    stack = await startBunchStack({ emulator: { profile: { batch: { pendingMs: 20, runningMs: 100 } } } });
    const started = await stack.start(await stack.writeJob({ catalogCsv: productCsv(3), job: batchJob() }));
    await failJobUnrecorded(stack.redis.url, stack.prefix, BATCH_QUEUE, 'worker lost while salvaging');
    await stack.startWorkers({ givenUpSweepGraceMs: 0 });

    const { meta, manifest } = await finishBatchRun(stack, started.runId, started.outputUrl, 3);
    expect(meta.counts).toEqual({ succeeded: 3, failed: 0, skipped: 0, cancelled: 0 });
    expect(manifest.map((line) => line.lane)).toEqual(['sync', 'sync', 'sync']);
    expect(paidCalls(stack)).toEqual({ http: 3, batch: 0 });
  });

  it('leaves alone jobs failed within the grace period, and jobs whose item or run is done', async () => {
    stack = await startBunchStack();
    const started = await stack.start(await stack.writeJob({ catalogCsv: 'sku,title\nS1,Lamp\nS2,Chair\nS3,Desk\n' }));
    for (let i = 0; i < 3; i += 1) await failJobUnrecorded(stack.redis.url, stack.prefix, GENERATE_QUEUE, `lost ${i}`);
    const { runs, queues } = stack.plane;
    const handed: number[] = [];
    // What the fleet does: an item with no record is handed over (here: noted).
    const handling = {
      unhandled: async (job: Job<GenerateJobData>) => !(await runs.records.isTerminal(job.data.runId, job.data.index)),
      handle: async (job: Job<GenerateJobData>) => void handed.push(job.data.index),
    };

    // Just failed: the process that failed them may still be recording them.
    expect(await sweepGivenUpJobs(queues.generate, stack.plane.redis, runs, handling)).toBe(0);
    // Old enough: all three, newest first.
    expect(await sweepGivenUpJobs(queues.generate, stack.plane.redis, runs, handling, { graceMs: 0 })).toBe(3);
    expect(handed).toEqual([2, 1, 0]);

    // An item recorded meanwhile is not handed over again.
    handed.length = 0;
    await runs.records.recordTerminal(started.runId, {
      index: 1, itemKey: 'S2#main', key: 'S2', variant: 'main', rowNumber: 3, status: 'failed', lane: 'sync', inputHash: 'h',
      model: 'm', costUsd: 0, attempts: 1, finishedAt: new Date().toISOString(), errorCode: 'E_INTERNAL', errorMessage: 'x',
    });
    expect(await sweepGivenUpJobs(queues.generate, stack.plane.redis, runs, handling, { graceMs: 0 })).toBe(2);
    expect(handed).toEqual([2, 0]);

    // A job whose handling fails is reported, and the sweep goes on with the next.
    handed.length = 0;
    const failing = { ...handling, handle: async (job: Job<GenerateJobData>) => (job.data.index === 2 ? Promise.reject(new Error('storage blip')) : handling.handle(job)) };
    const reported: string[] = [];
    expect(await sweepGivenUpJobs(queues.generate, stack.plane.redis, runs, failing, { graceMs: 0, onJobError: (job, error) => reported.push(`${job.data.index}: ${(error as Error).message}`) })).toBe(1);
    expect(handed).toEqual([0]);
    expect(reported).toEqual(['2: storage blip']);

    // So is one that cannot even be looked at (its state unreadable): the pass goes on past it.
    handed.length = 0;
    reported.length = 0;
    const unreadable = { ...handling, unhandled: async (job: Job<GenerateJobData>) => (job.data.index === 2 ? Promise.reject(new Error('corrupt state')) : handling.unhandled(job)) };
    expect(await sweepGivenUpJobs(queues.generate, stack.plane.redis, runs, unreadable, { graceMs: 0, onJobError: (job, error) => reported.push(`${job.data.index}: ${(error as Error).message}`) })).toBe(1);
    expect(handed).toEqual([0]);
    expect(reported).toEqual(['2: corrupt state']);

    // A pass told to stop (the fleet is closing) ends after the job in hand.
    handed.length = 0;
    const stopping = new AbortController();
    const stopsAfterOne = { ...handling, handle: async (job: Job<GenerateJobData>) => (await handling.handle(job), stopping.abort()) };
    expect(await sweepGivenUpJobs(queues.generate, stack.plane.redis, runs, stopsAfterOne, { graceMs: 0, signal: stopping.signal })).toBe(1);
    expect(handed).toEqual([2]);

    // A run that is finished (or gone) is not looked at: its item state may be released already.
    handed.length = 0;
    await runs.setStatus(started.runId, 'failed');
    expect(await sweepGivenUpJobs(queues.generate, stack.plane.redis, runs, handling, { graceMs: 0 })).toBe(0);
    expect(handed).toEqual([]);
  });

  it('finds an older orphan behind more failed jobs of finished runs than a pass looks at', async () => {
    stack = await startBunchStack();
    const going = await stack.start(await stack.writeJob({ catalogCsv: 'sku,title\nS1,Lamp\n' }));
    await failJobUnrecorded(stack.redis.url, stack.prefix, GENERATE_QUEUE, 'lost long ago');
    // A later burst: a whole run's jobs failed, that run finished since (its failures are history).
    const finished = await stack.start(await stack.writeJob({ catalogCsv: productCsv(6) }));
    for (let i = 0; i < 6; i += 1) await failJobUnrecorded(stack.redis.url, stack.prefix, GENERATE_QUEUE, `burst ${i}`);
    const { runs, queues } = stack.plane;
    await runs.setStatus(finished.runId, 'failed');
    const handed: string[] = [];
    const handling = {
      unhandled: async (job: Job<GenerateJobData>) => !(await runs.records.isTerminal(job.data.runId, job.data.index)),
      handle: async (job: Job<GenerateJobData>) => void handed.push(`${job.data.runId}.${job.data.index}`),
    };
    // A pass loads at most 5 jobs; the 6 newer ones of the finished run are passed over by id.
    expect(await sweepGivenUpJobs(queues.generate, stack.plane.redis, runs, handling, { graceMs: 0, maxJobs: 5 })).toBe(1);
    expect(handed).toEqual([`${going.runId}.0`]);
  });

  it('goes on where the last pass stopped (kept in Redis), looking at failures since the last pass first', async () => {
    stack = await startBunchStack();
    const started = await stack.start(await stack.writeJob({ catalogCsv: productCsv(7) }));
    const later = await stack.start(await stack.writeJob({ catalogCsv: 'sku,title\nL1,Lamp\n' }));
    const ids: string[] = [];
    for (let i = 0; i < 7; i += 1) ids.push(await failJobUnrecorded(stack.redis.url, stack.prefix, GENERATE_QUEUE, `lost ${i}`));
    const { runs, queues } = stack.plane;
    // Items 1-6 were recorded by the processes that failed them; item 0, the oldest, by nobody.
    for (let index = 1; index < 7; index += 1) {
      await runs.records.recordTerminal(started.runId, {
        index, itemKey: `SKU-${index}#main`, key: `SKU-${index}`, variant: 'main', rowNumber: index + 2, status: 'failed', lane: 'sync',
        inputHash: 'h', model: 'm', costUsd: 0, attempts: 1, finishedAt: new Date().toISOString(), errorCode: 'E_INTERNAL', errorMessage: 'x',
      });
    }
    // Failures of the same millisecond share a score; give items 2-5 one to walk through them too.
    const failedKey = queues.generate.keys.failed as string;
    const shared = Number(await stack.plane.redis.zscore(failedKey, ids[2] as string));
    for (const id of ids.slice(2, 6)) await stack.plane.redis.zadd(failedKey, 'XX', shared, id);
    const name = (job: Job<GenerateJobData>) => (job.data.runId === later.runId ? 'L' : String(job.data.index));
    const handed: string[] = [];
    const looked: string[][] = [];
    const handling = {
      unhandled: async (job: Job<GenerateJobData>) => {
        looked.at(-1)?.push(name(job));
        return !(await runs.records.isTerminal(job.data.runId, job.data.index));
      },
      handle: async (job: Job<GenerateJobData>) => void handed.push(name(job)),
    };
    const placeKey = givenUpSweepPlaceKey(stack.prefix, GENERATE_QUEUE);
    // Each pass with a store of its own, as another fleet process would sweep next.
    const pass = () => {
      looked.push([]);
      return sweepGivenUpJobs(queues.generate, stack!.plane.redis, runs, handling, { graceMs: 0, maxJobs: 3, pageSize: 2, place: redisSweepPlace(stack!.plane.redis, placeKey) });
    };
    // Three jobs a pass, two ids a page.
    expect(await pass()).toBe(0);
    // A newer orphan fails after that pass: the next looks at it first, then goes on.
    await failJobUnrecorded(stack.redis.url, stack.prefix, GENERATE_QUEUE, 'lost later');
    expect(await pass()).toBe(1);
    expect(await pass()).toBe(1);
    expect(handed).toEqual(['L', '0']);
    // Each job once, none skipped, across pages and through the shared score.
    expect(looked).toEqual([['6', '5', '4'], ['L', '3', '2'], ['1', '0']]);
    // That walk is done: the next pass starts another at the newest.
    expect(JSON.parse((await stack.plane.redis.get(placeKey)) as string)).toMatchObject({ ranges: [] });
    await pass();
    expect(looked.at(-1)).toEqual(['L', '6', '5']);
    // Without a place kept every pass looks at the same newest three.
    handed.length = 0;
    for (let i = 0; i < 3; i += 1) await sweepGivenUpJobs(queues.generate, stack.plane.redis, runs, handling, { graceMs: 0, maxJobs: 3, pageSize: 2 });
    expect(handed).toEqual(['L', 'L', 'L']);
  });

  it('gives failures since the last pass at most half a pass while an older walk waits', async () => {
    stack = await startBunchStack();
    const old = await stack.start(await stack.writeJob({ catalogCsv: productCsv(8) }));
    for (let i = 0; i < 8; i += 1) await failJobUnrecorded(stack.redis.url, stack.prefix, GENERATE_QUEUE, `old ${i}`);
    const { runs, queues } = stack.plane;
    const looked: string[][] = [];
    let newer: string | undefined;
    const name = (job: Job<GenerateJobData>) => (job.data.runId === newer ? `N${job.data.index}` : String(job.data.index));
    const handling = {
      unhandled: async (job: Job<GenerateJobData>) => (looked.at(-1)?.push(name(job)), job.data.runId === old.runId || job.data.runId === newer),
      handle: async () => undefined,
    };
    const placeKey = givenUpSweepPlaceKey(stack.prefix, GENERATE_QUEUE);
    const pass = (maxJobs: number) => {
      looked.push([]);
      return sweepGivenUpJobs(queues.generate, stack!.plane.redis, runs, handling, { graceMs: 0, maxJobs, pageSize: 2, place: redisSweepPlace(stack!.plane.redis, placeKey) });
    };
    await pass(2);
    // A burst of failures after that pass, more than half of the next pass could read.
    await new Promise((resolve) => setTimeout(resolve, 5));
    newer = (await stack.start(await stack.writeJob({ catalogCsv: productCsv(4) }))).runId;
    for (let i = 0; i < 4; i += 1) await failJobUnrecorded(stack.redis.url, stack.prefix, GENERATE_QUEUE, `newer ${i}`);
    await pass(4);
    await pass(4);
    await pass(4);
    // The burst got two of four reads, the old walk the other two; the rest of the burst waited
    // its turn behind the old walk (without the half share, the second pass is N3 N2 N1 N0).
    expect(looked).toEqual([['7', '6'], ['N3', 'N2', '5', '4'], ['3', '2', '1', '0'], ['N1', 'N0']]);
  });

  it('a run id the sweep could not read back from its job ids is refused before the run exists', async () => {
    stack = await startBunchStack();
    const jobFile = await stack.writeJob({ catalogCsv: 'sku,title\nS1,Lamp\n' });
    for (const runId of ['night.1', 'night:1', 'night 1', '']) {
      await expect(stack.start(jobFile, { runId })).rejects.toMatchObject({ code: 'E_CONFIG' });
    }
    expect(await stack.plane.runs.listRuns(10)).toEqual([]);
  });
});

import { access } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { BunchError } from '../../../src/errors/bunch-error.js';
import { createGeminiClient } from '../../../src/gemini/gemini-client.js';
import { createModelPreflight } from '../../../src/lanes/preflight-model.js';
import { startRun } from '../../../src/lanes/start-run.js';
import { silentLogger } from '../../../src/logging/create-logger.js';
import { loadJobFile } from '../../../src/spec/load-job-file.js';
import type { ResolvedJob } from '../../../src/spec/resolved-job.js';
import { productCsv, startBunchStack, type BunchStack } from '../../helpers/bunch-stack.js';

/**
 * startRun with a preflight, against a real Redis and the emulator: a run the API would refuse is
 * refused before it exists: no run record, no queued job, no call to generateContent, no output.
 */
const stacks: BunchStack[] = [];
afterEach(async () => {
  while (stacks.length > 0) await stacks.pop()!.stop();
});

async function stack(): Promise<BunchStack> {
  const created = await startBunchStack();
  stacks.push(created);
  return created;
}

async function jobFor(s: BunchStack, lane: 'sync' | 'batch' = 'sync'): Promise<ResolvedJob> {
  return loadJobFile(await s.writeJob({ catalogCsv: productCsv(25), job: { lane } }));
}

function start(s: BunchStack, job: ResolvedJob, apiKey: string) {
  const warnings: string[] = [];
  const client = createGeminiClient({ apiKey, baseUrl: s.emulator.url });
  const preflight = createModelPreflight(client, (message) => warnings.push(message), { retryDelayMs: 5 });
  const started = startRun(job, { runs: s.plane.runs, queues: s.plane.queues, openStore: s.storeFor, logger: silentLogger(), preflight });
  return { started, warnings };
}

async function failure(promise: Promise<unknown>): Promise<BunchError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(BunchError);
    return error as BunchError;
  }
  throw new Error('expected a BunchError');
}

/** Nothing of the run exists: not in Redis (run index, queues), not in storage, not upstream. */
async function expectNothingStarted(s: BunchStack): Promise<void> {
  expect(await s.plane.runs.listRuns()).toEqual([]);
  for (const queue of [s.plane.queues.generate, s.plane.queues.batch, s.plane.queues.finalize]) {
    const counts = await queue.getJobCounts();
    expect(Object.values(counts).every((count) => count === 0)).toBe(true);
  }
  // BullMQ writes each queue's `meta` hash when the queue is opened; anything else would be the run's.
  expect((await s.plane.redis.keys(`${s.prefix}*`)).filter((key) => !key.endsWith(':meta'))).toEqual([]);
  await expect(access(path.join(s.dir.path, 'out'))).rejects.toThrow();
  expect(s.emulator.requestLog.count({ route: 'generateContent' })).toBe(0);
  expect(s.emulator.requestLog.count({ route: 'batchGenerateContent' })).toBe(0);
}

describe('startRun with a model preflight', () => {
  it('a model the API does not know fails at start with E_MODEL_NOT_FOUND and leaves nothing behind', async () => {
    const s = await stack();
    const job = { ...(await jobFor(s)), model: 'gemini-0-retired' };
    const error = await failure(start(s, job, s.emulator.apiKey ?? '').started);
    expect(error.code).toBe('E_MODEL_NOT_FOUND');
    expect(error.message.startsWith('model preflight for "gemini-0-retired": the model does not exist or is not available to this key: HTTP 404')).toBe(true);
    expect(s.emulator.requestLog.count({ route: 'getModel', status: 404 })).toBe(1);
    await expectNothingStarted(s);
  });

  it('a wrong key fails with E_AUTH before anything is queued', async () => {
    const s = await stack();
    const error = await failure(start(s, await jobFor(s, 'batch'), 'not-the-key').started);
    expect(error.code).toBe('E_AUTH');
    expect(error.message).not.toContain('not-the-key');
    expect(s.emulator.requestLog.count({ route: 'getModel', status: 400 })).toBe(1);
    await expectNothingStarted(s);
  });

  it('a project the API will not serve fails with E_PRECONDITION before anything is queued', async () => {
    const s = await stack();
    s.emulator.setKnobs({ outage: 'precondition' });
    const error = await failure(start(s, await jobFor(s), s.emulator.apiKey ?? '').started);
    expect(error.code).toBe('E_PRECONDITION');
    await expectNothingStarted(s);
  });

  it('a known model passes with one models.get, and the run starts as usual', async () => {
    const s = await stack();
    const { started, warnings } = start(s, await jobFor(s), s.emulator.apiKey ?? '');
    const run = await started;
    expect(run).toMatchObject({ items: 25, enqueued: 25, lane: 'sync' });
    expect(s.emulator.requestLog.count({ route: 'getModel', status: 200 })).toBe(1);
    expect(warnings).toEqual([]);
    expect(await s.plane.runs.listRuns()).toEqual([run.runId]);
  });
});

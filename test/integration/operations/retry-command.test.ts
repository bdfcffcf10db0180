import { writeFile } from 'node:fs/promises';
import { afterEach, describe, expect, it } from 'vitest';
import type { ManifestItemLine } from '../../../src/manifest/manifest-line.js';
import { startBunchStack, type BunchStack } from '../../helpers/bunch-stack.js';
import { runCli } from '../../helpers/run-cli.js';
import { loadJobFile } from '../../../src/spec/load-job-file.js';

let stack: BunchStack | undefined;
afterEach(async () => {
  await stack?.stop();
  stack = undefined;
});

const paid = (s: BunchStack) => s.emulator.requestLog.count({ route: 'generateContent', status: 200 });

describe('bunch retry <runId>', () => {
  it('pays exactly for the failed items, linked to the parent; succeeded items are never paid again', async () => {
    stack = await startBunchStack({ concurrency: 4 });
    await stack.startWorkers();
    const titles = ['one', 'busy [[emu:fail-first=1:503]]', 'two', 'down [[emu:fail-first=1:500]]', 'three', 'slow [[emu:fail-first=1:hang]]', 'four'];
    const csv = ['sku,title', ...titles.map((title, i) => `P${i + 1},"${title}"`)].join('\n');
    const job = { sync: { attempts: 1, timeoutMs: '400ms', backoff: { initialMs: 20, maxMs: 50, jitter: 0 } } };
    const parent = await stack.start(await stack.writeJob({ catalogCsv: csv, job }));
    const parentMeta = await stack.waitForRun(parent.runId);
    expect(parentMeta.counts).toEqual({ succeeded: 4, failed: 3, skipped: 0, cancelled: 0 });
    expect(parentMeta.errors).toEqual({ E_UPSTREAM: 2, E_TIMEOUT: 1 });
    const env = { REDIS_URL: stack.redis.url, BUNCH_PREFIX: stack.prefix };

    const before = paid(stack);
    const first = await runCli(['retry', parent.runId, '--codes', 'E_UPSTREAM', '--wait', '--json'], env);
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    const firstResult = JSON.parse(first.stdout) as { runId: string; parentRunId: string; selected: number; items: number; status: string };
    expect(firstResult).toMatchObject({ parentRunId: parent.runId, selected: 2, items: 2, status: 'succeeded' });
    expect(paid(stack) - before).toBe(2);
    const store = stack.storeFor(parent.outputUrl);
    const summary = await stack.readSummary(store, firstResult.runId);
    expect(summary).toMatchObject({ parentRunId: parent.runId, items: 2, counts: { succeeded: 2 } });
    const manifest = (await stack.readManifest(store, firstResult.runId)) as ManifestItemLine[];
    expect(manifest.map((line) => line.key).sort()).toEqual(['P2', 'P4']);

    // Retrying the parent again: the two are stored now (skipped, no call), the timed-out one is paid once.
    const second = await runCli(['retry', parent.runId, '--wait', '--json'], env);
    expect(second.code).toBe(0);
    expect(JSON.parse(second.stdout)).toMatchObject({ selected: 3, items: 3, skipped: 2, status: 'succeeded', counts: { succeeded: 1, skipped: 2 } });
    expect(paid(stack) - before).toBe(3);

    const unknown = await runCli(['retry', 'no-such-run'], env);
    expect([unknown.code, unknown.stderr.trim()]).toEqual([
      2,
      "bunch: E_NOT_FOUND: run no-such-run is not known to this Redis (a run's record is kept 30 days after it ends): give its job file with --job to retry it from the manifest in its output location",
    ]);
  });

  it("retries a run whose record has left Redis from its manifest, given the job file", async () => {
    stack = await startBunchStack({ concurrency: 4 });
    await stack.startWorkers();
    const csv = ['sku,title', 'P1,one', 'P2,"busy [[emu:fail-first=1:503]]"', 'P3,two'].join('\n');
    const jobFile = await stack.writeJob({ catalogCsv: csv, job: { sync: { attempts: 1 } } });
    const parent = await stack.start(jobFile);
    expect((await stack.waitForRun(parent.runId)).counts).toEqual({ succeeded: 2, failed: 1, skipped: 0, cancelled: 0 });
    // Thirty days on: every key of the parent's record has expired.
    const keys = await stack.plane.redis.keys(`${stack.prefix}:run:{${parent.runId}}*`);
    expect(keys.length).toBeGreaterThan(0);
    await stack.plane.redis.del(...keys);
    const env = { REDIS_URL: stack.redis.url, BUNCH_PREFIX: stack.prefix };
    const before = paid(stack);

    // Before: "run … is not known to this Redis", with or without --job.
    const bare = await runCli(['retry', parent.runId], env);
    expect([bare.code, bare.stderr.trim()]).toEqual([
      2,
      `bunch: E_NOT_FOUND: run ${parent.runId} is not known to this Redis (a run's record is kept 30 days after it ends): give its job file with --job to retry it from the manifest in its output location`,
    ]);
    const retried = await runCli(['retry', parent.runId, '--job', jobFile, '--wait', '--json'], env);
    expect(retried.stderr).toBe('');
    expect(retried.code).toBe(0);
    const result = JSON.parse(retried.stdout) as { runId: string };
    expect(result).toMatchObject({ parentRunId: parent.runId, selected: 1, items: 1, status: 'succeeded', counts: { succeeded: 1 } });
    expect(paid(stack) - before).toBe(1);
    const manifest = (await stack.readManifest(stack.storeFor(parent.outputUrl), result.runId)) as ManifestItemLine[];
    expect(manifest.map((line) => line.key)).toEqual(['P2']);

    // A job file whose output location holds no manifest of that run says so.
    const elsewhere = await stack.writeJob({ catalogCsv: csv, job: { output: { url: 'file://elsewhere' } } });
    const lost = await runCli(['retry', parent.runId, '--job', elsewhere], env);
    expect(lost.code).toBe(2);
    expect(lost.stderr.trim()).toBe(`bunch: E_NOT_FOUND: run ${parent.runId} has no manifest yet (it is still running, or its output location is elsewhere): retry it once it has ended`);
  });
  it('names failed items whose row is gone from the catalog or no longer reads to its key', async () => {
    stack = await startBunchStack({ concurrency: 4 });
    await stack.startWorkers();
    const fail = '[[emu:fail-first=1:500]]';
    const csv = ['sku,title', `P1,"one ${fail}"`, `P2,"two ${fail}"`, `P3,"three ${fail}"`, 'P4,four'].join('\n');
    const jobFile = await stack.writeJob({ catalogCsv: csv, job: { sync: { attempts: 1 } } });
    const parent = await stack.start(jobFile);
    expect((await stack.waitForRun(parent.runId)).counts).toMatchObject({ succeeded: 1, failed: 3 });
    // P2's row gains an unquoted comma (no key can be read from it); P3 is delisted.
    await writeFile((await loadJobFile(jobFile)).catalog.path, ['sku,title', `P1,"one ${fail}"`, 'P2,two, large', 'P4,four'].join('\n'));
    const env = { REDIS_URL: stack.redis.url, BUNCH_PREFIX: stack.prefix };

    const retried = await runCli(['retry', parent.runId], env);
    expect(retried.code).toBe(0);
    // Before: P2 and P3 vanished from the retry without a word.
    expect(retried.stdout).toContain('\n2 item(s) left out: their row is not in the catalog any more, or no longer reads to its key (P2#main, P3#main)\n');
    const json = await runCli(['retry', parent.runId, '--json'], env);
    expect(JSON.parse(json.stdout)).toMatchObject({ selected: 3, items: 1, missing: ['P2#main', 'P3#main'], changed: [] });
  });
});

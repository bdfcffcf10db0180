import { writeFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { productCsv, startBunchStack, type BunchStack } from '../../helpers/bunch-stack.js';
import { runCli } from '../../helpers/run-cli.js';

/**
 * Operator commands against a run that has ended (2 succeeded, 1 failed with E_UPSTREAM): a
 * cancel changes nothing `status` reports (before: `succeeded — stopped: E_CANCELLED`, while
 * summary.json said succeeded with no stop), and a retry naming an error code that does not exist
 * is refused (before: "nothing to retry", exit 0 — a typo looked like a clean run).
 */
describe('steering a run that has ended', () => {
  let stack: BunchStack;
  let runId: string;
  let outputUrl: string;
  let env: Record<string, string>;
  beforeAll(async () => {
    stack = await startBunchStack({ concurrency: 2 });
    await stack.startWorkers();
    const csv = productCsv(3, (i) => (i === 2 ? 'down [[emu:fail-first=1:503]]' : `Product ${i}`));
    const started = await stack.start(await stack.writeJob({ catalogCsv: csv, job: { sync: { attempts: 1, backoff: { initialMs: 20, maxMs: 50, jitter: 0 } }, failureThreshold: { maxFailedRatio: 0.5 } } }));
    const meta = await stack.waitForRun(started.runId);
    expect(meta.counts).toMatchObject({ succeeded: 2, failed: 1 });
    runId = started.runId;
    outputUrl = started.outputUrl;
    env = { REDIS_URL: stack.redis.url, BUNCH_PREFIX: stack.prefix };
  });
  afterAll(async () => stack?.stop());

  it('cancel says the run has ended and changes nothing status reports', async () => {
    const cancelled = await runCli(['cancel', runId, '--json'], env);
    expect(cancelled.code).toBe(0);
    expect(JSON.parse(cancelled.stdout)).toEqual({ runId, requested: false, ended: 'succeeded', promoted: 0, batches: 0 });
    const text = await runCli(['cancel', runId], env);
    expect(text.stdout.trim()).toBe(`run ${runId} has already ended (succeeded): nothing to cancel`);
    const status = JSON.parse((await runCli(['status', runId, '--json'], env)).stdout) as { status: string; stop?: string };
    expect({ status: status.status, stop: status.stop }).toEqual({ status: 'succeeded', stop: undefined });
    const summary = await stack.readSummary(stack.storeFor(outputUrl), runId);
    expect({ status: summary.status, stopReason: summary.stopReason }).toEqual({ status: 'succeeded', stopReason: undefined });
  });

  it('a stop asked of a run that is gone leaves no key behind', async () => {
    expect(await stack.plane.runs.requestStop('no-such-run', 'E_CANCELLED')).toBe(false);
    expect(await stack.plane.redis.exists(`${stack.prefix}:run:{no-such-run}`)).toBe(0);
  });

  it('retry --codes with a code that does not exist is refused with E_CONFIG naming it', async () => {
    const typo = await runCli(['retry', runId, '--codes', 'E_UPSTREAM,E_UPSTREM'], env);
    expect(typo.code).toBe(2);
    expect(typo.stderr).toContain('E_CONFIG');
    expect(typo.stderr).toContain('E_UPSTREM');
    const empty = await runCli(['retry', runId, '--codes', ','], env);
    expect(empty.code).toBe(2);
    expect(empty.stderr).toContain('E_CONFIG');
  });

  it('retry --keys names the keys the parent run never had, instead of dropping them without a word', async () => {
    const keysFile = `${stack.dir.path}/keys.txt`;
    await writeFile(keysFile, ['SKU-0002', 'SKU-0099', 'SKU-0001#nope'].join('\n') + '\n');
    const retried = await runCli(['retry', runId, '--keys', keysFile, '--json'], env);
    expect(retried.code).toBe(0);
    const result = JSON.parse(retried.stdout) as { selected: number; notInParent: string[]; runId: string };
    // Before: selected 1, and the two unknown keys nowhere.
    expect({ selected: result.selected, notInParent: result.notInParent }).toEqual({ selected: 1, notInParent: ['SKU-0001#nope', 'SKU-0099'] });
    await stack.waitForRun(result.runId);
    const none = `${stack.dir.path}/none.txt`;
    await writeFile(none, 'SKU-0099\n');
    const nothing = await runCli(['retry', runId, '--keys', none], env);
    expect(nothing.stdout.trim()).toBe(`run ${runId}: nothing to retry\n1 key(s) not in run ${runId}: SKU-0099`);
  });
});

import { afterEach, describe, expect, it } from 'vitest';
import type { ItemStory } from '../../../src/lanes/item-story.js';
import { startBunchStack, type BunchStack } from '../../helpers/bunch-stack.js';
import { runCli } from '../../helpers/run-cli.js';

let stack: BunchStack | undefined;
afterEach(async () => {
  await stack?.stop();
  stack = undefined;
});

describe('bunch logs <runId> <itemKey>', () => {
  it("tells one item's story: each call with outcome, HTTP status, latency, the wait chosen and the worker", async () => {
    stack = await startBunchStack({ concurrency: 2 });
    await stack.startWorkers();
    const csv = ['sku,title', 'A1,"flaky [[emu:fail-first=2:503]]"', 'A2,plain', 'A3,"broken [[emu:500]]"'].join('\n');
    const job = { sync: { attempts: 3, backoff: { initialMs: 40, maxMs: 200, jitter: 0 } } };
    const started = await stack.start(await stack.writeJob({ catalogCsv: csv, job }));
    await stack.waitForRun(started.runId);
    const env = { REDIS_URL: stack.redis.url, BUNCH_PREFIX: stack.prefix };

    const flaky = await runCli(['logs', started.runId, 'A1#main', '--json'], env);
    expect(flaky.stderr).toBe('');
    expect(flaky.code).toBe(0);
    const story = JSON.parse(flaky.stdout) as ItemStory;
    expect(story.state).toBe('succeeded');
    expect(story.steps.map((step) => [step.attempt, step.outcome, step.code ?? null, step.httpStatus ?? null, step.retryDelayMs ?? null])).toEqual([
      [1, 'retry', 'E_UPSTREAM', 503, 40],
      [2, 'retry', 'E_UPSTREAM', 503, 80],
      [3, 'succeeded', null, null, null],
    ]);
    expect(story.steps.every((step) => /^[^:]+:\d+$/.test(step.worker) && typeof step.latencyMs === 'number')).toBe(true);

    const plain = await runCli(['logs', started.runId, 'A2#main'], env);
    expect(plain.stdout).toMatch(new RegExp(`^A2#main in run ${started.runId}: succeeded after 1 attempt\\(s\\), lane sync\\n  \\S+  #1  succeeded `));

    const broken = await runCli(['logs', started.runId, 'A3#main'], env);
    expect(broken.stdout.split('\n').filter((line) => line.includes('E_UPSTREAM'))).toHaveLength(4);
    expect(broken.stdout).toContain('  message  HTTP 500 INTERNAL');
    expect(broken.stdout.split('\n').at(-3)).toMatch(/^  \S+  #3  failed\s+E_UPSTREAM\s+HTTP 500 /);

    const missing = await runCli(['logs', started.runId, 'NOPE#main'], env);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain(`run ${started.runId} has no item NOPE#main`);
  });
});

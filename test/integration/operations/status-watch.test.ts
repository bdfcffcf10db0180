import { afterEach, describe, expect, it } from 'vitest';
import { productCsv, startBunchStack, type BunchStack } from '../../helpers/bunch-stack.js';
import { runCli } from '../../helpers/run-cli.js';

let stack: BunchStack | undefined;
afterEach(async () => {
  await stack?.stop();
  stack = undefined;
});

describe('bunch status <runId> --watch', () => {
  it('prints a line per interval while the run goes, the full view at the end, and exits with the run\'s outcome', async () => {
    stack = await startBunchStack({ concurrency: 2 });
    await stack.startWorkers();
    const csv = productCsv(30, (i) => (i === 3 ? 'flaky [[emu:fail-first=1:503]] [[emu:latency=300ms]]' : `Product ${i} [[emu:latency=300ms]]`));
    const job = { sync: { attempts: 3, backoff: { initialMs: 20, maxMs: 50, jitter: 0 } } };
    const started = await stack.start(await stack.writeJob({ catalogCsv: csv, job }));
    const env = { REDIS_URL: stack.redis.url, BUNCH_PREFIX: stack.prefix };
    const watched = await runCli(['status', started.runId, '--watch', '--interval', '150ms'], env);
    expect(watched.code).toBe(0);
    const lines = watched.stdout.split('\n');
    const progress = lines.filter((line) => /^\d\d:\d\d:\d\d \S+ running \d+\/30 ok \d+ failed 0 skipped 0 cancelled 0 retries [01] [\d.]+\/s/.test(line));
    expect(progress.length).toBeGreaterThanOrEqual(2);
    expect(watched.stdout).toContain(`run ${started.runId} (`);
    expect(watched.stdout).toContain('): succeeded');
    expect(watched.stdout).toContain('  retries    1 (E_UPSTREAM ×1)');

    const failing = await stack.start(await stack.writeJob({ catalogCsv: productCsv(3, () => 'always [[emu:500]]'), job: { sync: { attempts: 1 } } }));
    const watchedFailure = await runCli(['status', failing.runId, '--watch', '--interval', '100ms', '--json'], env);
    expect(watchedFailure.code).toBe(1);
    expect(JSON.parse(watchedFailure.stdout)).toMatchObject({ status: 'failed', counts: { failed: 3 } });
  });
});

import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { productCsv, startBunchStack, type BunchStack } from '../../helpers/bunch-stack.js';
import { waitFor } from '../../helpers/spawn-worker.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
let stack: BunchStack | undefined;
afterEach(async () => {
  await stack?.stop();
  stack = undefined;
});

describe('bunch run --wait through a Redis outage shorter than its limit', () => {
  it('keeps following, says so once per 10 s and once when Redis is back, and exits with the run\'s real outcome', async () => {
    stack = await startBunchStack({ durableRedis: true });
    // Short lock, stall and claim timings: an item cut off by the crash is taken up again in
    // seconds (these are the workers' concern; this test is about the follower).
    await stack.startWorkers({ lockDurationMs: 2000, stalledIntervalMs: 1000, claimRecheckMs: 500 });
    // Every fourth product is refused by the model: the run ends `failed` (over the 2 % threshold),
    // so exit 1 proves the code comes from the run, not from a follow that merely ended. 1.5 s a
    // call keeps the run going for ≈ 7 s at 8 slots: the crash below always falls inside it (at
    // 300 ms a call the run could end before Redis went down once workers got faster to start).
    const catalog = productCsv(40, (i) => `Product ${i} [[emu:latency=1500ms]]${i % 4 === 0 ? ' [[emu:block=prohibited_content]]' : ''}`);
    const jobFile = await stack.writeJob({ catalogCsv: catalog, job: { sync: { attempts: 3, timeoutMs: '3s', backoff: { initialMs: 50, maxMs: 200, jitter: 0 } } } });
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(repoRoot, 'src/cli/main.ts'), 'run', jobFile, '--wait', '--no-preflight'], {
      cwd: repoRoot,
      env: { ...process.env, REDIS_URL: stack.redis.url, BUNCH_PREFIX: stack.prefix, BUNCH_LOG_LEVEL: 'info', BUNCH_FOLLOW_OUTAGE_LIMIT_MS: '60000' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('close', resolve));
    const runIds = async () => stack!.plane.runs.listRuns(5);
    await waitFor(async () => (await runIds()).length > 0, 30_000, 'the run to start');
    const [runId] = await runIds();
    await waitFor(async () => {
      const meta = await stack!.plane.runs.getMeta(runId!);
      return meta?.planned === true && meta.terminal >= 4;
    }, 30_000, 'the run to be planned and under way');

    await stack.redis.crashAndRestart!(4000);

    expect(await exited).toBe(1);
    expect(stdout).toContain('failed');
    // Said on stderr for a person, once (the outage was shorter than 10 s) ...
    expect(stderr.match(new RegExp(`bunch: Redis unreachable for \\d+ s \\(.*\\); still following run ${runId} for up to 1 min`, 'g'))).toHaveLength(1);
    // ... and in the log: one warning carrying downForMs, one line when Redis is back.
    const logLines = stderr.split('\n').filter((line) => line.startsWith('{')).map((line) => JSON.parse(line) as { msg: string; downForMs?: number; outageMs?: number });
    const warnings = logLines.filter((line) => line.msg === 'Redis unreachable; retrying');
    expect(warnings).toHaveLength(1);
    expect(warnings[0]!.downForMs).toBe(0);
    const back = logLines.filter((line) => line.msg === 'Redis is back');
    expect(back).toHaveLength(1);
    expect(back[0]!.outageMs).toBeGreaterThanOrEqual(3000);
    // Nothing else: no raw stack traces, no "Unhandled error event".
    expect(stderr.split('\n').filter((line) => line && !line.startsWith('{') && !line.startsWith('bunch: '))).toEqual([]);
  }, 90_000);
});

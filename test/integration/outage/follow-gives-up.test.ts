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

describe('bunch run --wait through a Redis outage longer than its limit', () => {
  it('gives up with exit 3 and says the run goes on and how to check it', async () => {
    stack = await startBunchStack({ durableRedis: true });
    await stack.startWorkers();
    const jobFile = await stack.writeJob({ catalogCsv: productCsv(40, (i) => `Product ${i} [[emu:latency=1000ms]]`) });
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(repoRoot, 'src/cli/main.ts'), 'run', jobFile, '--wait', '--outage-limit', '2s', '--no-preflight'], {
      cwd: repoRoot,
      env: { ...process.env, REDIS_URL: stack.redis.url, BUNCH_PREFIX: stack.prefix, BUNCH_LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('close', resolve));
    const runIds = async () => stack!.plane.runs.listRuns(5);
    await waitFor(async () => (await runIds()).length > 0, 30_000, 'the run to start');
    const [runId] = await runIds();
    // Crash Redis once the run is planned and going (a crash during planning is another drill).
    // Five rounds of 1 s calls: on a loaded machine the run must not finish before the crash.
    await waitFor(async () => {
      const meta = await stack!.plane.runs.getMeta(runId!);
      return meta?.planned === true && meta.terminal >= 4;
    }, 30_000, 'the run to be planned and under way');
    // Down for 8 s, longer than --outage-limit 2s; back afterwards so the workers can be stopped.
    const restarted = stack.redis.crashAndRestart!(8000);
    const code = await exited;
    await restarted;
    expect(code).toBe(3);
    expect(stderr).toMatch(new RegExp(`bunch: E_NETWORK: Redis was unreachable for \\d+ s while following run ${runId} \\(.*\\); the run continues on the workers; check it with bunch status ${runId}`));
    // Said on stderr while it waited, and in the log (JSON lines), with no stack traces.
    expect(stderr).toMatch(new RegExp(`bunch: Redis unreachable for \\d+ s \\(.*\\); still following run ${runId} for up to 2 s \\(the run continues on the workers\\)`));
    const logLines = stderr.split('\n').filter((line) => line.startsWith('{')).map((line) => JSON.parse(line) as { msg: string; downForMs?: number; runId?: string });
    expect(logLines.filter((line) => line.msg === 'Redis unreachable; retrying')[0]).toMatchObject({ downForMs: 0 });
    expect(logLines.find((line) => line.msg.startsWith('gave up following the run'))).toMatchObject({ runId });
    expect(stderr.split('\n').filter((line) => line && !line.startsWith('{') && !line.startsWith('bunch: '))).toEqual([]);
  });
});

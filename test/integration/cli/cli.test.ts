import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type RunningEmulator } from '../../../src/emulator/start-emulator.js';
import { productCsv } from '../../helpers/bunch-stack.js';
import { runCli, runNode } from '../../helpers/run-cli.js';
import { startRedis, type RedisHandle } from '../../helpers/start-redis.js';
import { tempDir, type TempDir } from '../../helpers/temp-dir.js';

describe('the bunch CLI', () => {
  let redis: RedisHandle;
  let emulator: RunningEmulator;
  let dir: TempDir;
  let env: Record<string, string>;
  beforeAll(async () => {
    redis = await startRedis();
    emulator = await startEmulator({ apiKey: 'cli-test-key' });
    dir = await tempDir('cli');
    env = { REDIS_URL: redis.url, BUNCH_PREFIX: 'clitest', GEMINI_BASE_URL: emulator.url, GEMINI_API_KEY: 'cli-test-key' };
    await writeFile(path.join(dir.path, 'products.csv'), productCsv(12) + ',missing key\n');
  });
  afterAll(async () => {
    await emulator?.close();
    await redis?.stop();
    await dir?.remove();
  });

  async function job(name: string, extra = '', prompt = 'Studio photo of {{title}}'): Promise<string> {
    const file = path.join(dir.path, `${name}.yaml`);
    await writeFile(
      file,
      [
        `name: ${name}`,
        'catalog: { path: products.csv, key: sku }',
        'model: gemini-3.1-flash-image-preview',
        `prompt: "${prompt}"`,
        'generation: { imageConfig: { aspectRatio: "16:9", imageSize: "512" } }',
        `output: { url: "file://out-${name}" }`,
        extra,
      ].join('\n'),
    );
    return file;
  }

  it('rejects a bad job file with exit 2 and names the file, line and field', async () => {
    const file = await job('bad', 'sync: { attempts: 0 }');
    const result = await runCli(['run', file], env);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/^bunch: E_JOB_FILE: .*bad\.yaml:7 field `sync\.attempts`/m);
  });

  it('--dry-run plans without Redis or the model and reports rejected rows', async () => {
    const result = await runCli(['run', await job('dry'), '--dry-run', '--json'], { REDIS_URL: undefined, GEMINI_API_KEY: undefined });
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ items: 12, alreadyStored: 0, toGenerate: 12, rejectedRows: 1, lane: 'sync', estimatedUsd: 0.53784 }); // 12 images at the table's 512 price, $0.04482
    expect(JSON.parse(result.stdout).rejections[0]).toMatchObject({ line: 14, field: 'sku' });
    expect(emulator.requestLog.count({ route: 'generateContent' })).toBe(0);
  });

  it('--dry-run lists each rejected row where it is, and refuses a strict job as the real run would (exit 2)', async () => {
    const catalog = path.join(dir.path, 'products.csv');
    const plain = await runCli(['run', await job('dry-text'), '--dry-run'], { REDIS_URL: undefined, GEMINI_API_KEY: undefined });
    expect(plain.code).toBe(0);
    // Before: only the count, "1 rejected rows".
    expect(plain.stdout).toBe(
      'dry-text: 12 items (0 already stored, 12 to generate), 1 rejected rows; sync lane, estimated cost $0.54\n' +
        `  ${catalog}:14 (row 13) field \`sku\`: E_CATALOG_ROW: no value in the key column \`sku\`\n`,
    );
    const strict = await runCli(['run', await job('dry-strict', 'strict: true'), '--dry-run'], { REDIS_URL: undefined, GEMINI_API_KEY: undefined });
    // Before: exit 0, as if the run would go ahead.
    expect(strict.code).toBe(2);
    expect(strict.stderr).toBe(`bunch: E_CATALOG_ROW: strict mode: 1 catalog row(s) rejected; first at ${catalog}:14 field \`sku\`: no value in the key column \`sku\`\n`);
  });

  it('run --workers processes the run and exits 0; status shows it; a second run skips everything', async () => {
    const file = await job('ok');
    const first = await runCli(['run', file, '--workers', '4', '--json'], env);
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    const run = JSON.parse(first.stdout) as { runId: string; status: string; counts: Record<string, number> };
    expect(run).toMatchObject({ status: 'succeeded', counts: { succeeded: 12, failed: 0 } });

    const status = await runCli(['status', run.runId, '--json'], env);
    expect(status.code).toBe(0);
    expect(JSON.parse(status.stdout)).toMatchObject({ status: 'succeeded', total: 12, rejected: 1, counts: { succeeded: 12 } });
    const human = await runCli(['status', run.runId], env);
    expect(human.stdout).toContain(`run ${run.runId} (ok, gemini-3.1-flash-image-preview): succeeded`);
    expect(human.stdout).toContain('progress   12/12');

    const second = await runCli(['run', file, '--workers', '--json'], env);
    expect(JSON.parse(second.stdout)).toMatchObject({ status: 'succeeded', skipped: 12, enqueued: 0 });
    expect(emulator.requestLog.stats().generations.total).toBe(12);
  });

  it('exits 1 when the run fails beyond its threshold, 2 without Redis, 2 for an unknown run', async () => {
    const failing = await runCli(['run', await job('unsafe', '', '{{title}} [[emu:image-safety]]'), '--workers', '2'], env);
    expect(failing.code).toBe(1);
    expect(failing.stdout).toContain('failed');
    expect(failing.stdout).toContain('E_SAFETY_BLOCKED ×12');

    const noRedis = await runCli(['status'], { REDIS_URL: undefined });
    expect(noRedis.code).toBe(2);
    expect(noRedis.stderr).toContain('E_CONFIG');

    const unknown = await runCli(['status', 'no-such-run'], env);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('E_NOT_FOUND');
  });

  it('reports bad numbers and an unreachable Redis clearly', async () => {
    const badWorkers = await runCli(['run', await job('flags'), '--workers', 'abc'], env);
    expect(badWorkers.code).toBe(2);
    expect(badWorkers.stderr).toContain('bunch: E_CONFIG: --workers must be a whole number from 1 to 1000, got "abc"');

    const badPort = await runCli(['emulator', '--port', '99999'], env);
    expect(badPort.code).toBe(2);
    expect(badPort.stderr).toContain('--port must be a whole number from 0 to 65535');

    // Environment numbers are checked where they enter, before anything starts.
    for (const [name, value] of [
      ['BUNCH_LOCK_DURATION_MS', 'abc'],
      ['BUNCH_STALLED_INTERVAL_MS', '0'],
      ['BUNCH_CONCURRENCY', '2.5'],
    ] as const) {
      const badEnv = await runCli(['worker'], { ...env, [name]: value });
      expect(badEnv.code).toBe(2);
      expect(badEnv.stderr).toContain(`bunch: E_CONFIG: ${name} must be a whole number`);
    }

    // The process entry point of workers/ is the same verb with the same checks.
    const entry = await runNode(['workers/worker.ts', '-c', '0'], env);
    expect(entry.code).toBe(2);
    expect(entry.stderr).toContain('bunch: E_CONFIG: --concurrency must be a whole number from 1 to 1000, got "0"');

    const down = await runCli(['status'], { ...env, REDIS_URL: 'redis://:hunter2@127.0.0.1:1' });
    expect(down.code).toBe(3);
    expect(down.stderr).toMatch(/^bunch: E_NETWORK: cannot reach Redis at redis:\/\/:\*\*\*@127\.0\.0\.1:1\/?: /m);
    expect(down.stderr).not.toContain('Unhandled error event');
    expect(down.stderr).not.toContain('hunter2');
  });
});

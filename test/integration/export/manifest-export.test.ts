import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBunchStack, type BunchStack } from '../../helpers/bunch-stack.js';
import { runCli } from '../../helpers/run-cli.js';
import { startS3, type S3Handle } from '../../helpers/start-s3.js';

let s3: S3Handle;
let stack: BunchStack;
beforeAll(async () => {
  s3 = await startS3();
  stack = await startBunchStack({ s3: s3.settings });
  await stack.startWorkers();
});
afterAll(async () => {
  await stack?.stop();
  await s3?.stop();
});

const KEYS = ['=HYPERLINK("http://evil.example","click")', '+1+1', '-2', '@SUM(A1)', '=cmd|\' /C calc\'!A0', 'plain, with "quotes"', 'SAFE-1'];

describe('bunch manifest <runId>', () => {
  it('exports CSV that a spreadsheet cannot run as formulas, with links that open the images, and filters by status', async () => {
    const rows = KEYS.map((key, i) => [key, i === 3 ? 'unsafe [[emu:image-safety]]' : `Product ${i}`]);
    const csvText = ['sku,title', ...rows.map((cells) => cells.map((cell) => `"${cell.replace(/"/g, '""')}"`).join(','))].join('\n') + '\n';
    const outputUrl = `s3://${s3.bucket}/export-test`;
    const started = await stack.start(await stack.writeJob({ catalogCsv: csvText, outputUrl }));
    const meta = await stack.waitForRun(started.runId);
    expect(meta.counts).toMatchObject({ succeeded: 6, failed: 1 });
    const env = {
      REDIS_URL: stack.redis.url,
      BUNCH_PREFIX: stack.prefix,
      BUNCH_S3_ENDPOINT: s3.endpoint,
      BUNCH_S3_FORCE_PATH_STYLE: 'true',
      AWS_ACCESS_KEY_ID: s3.settings.credentials!.accessKeyId,
      AWS_SECRET_ACCESS_KEY: s3.settings.credentials!.secretAccessKey,
      AWS_REGION: 'us-east-1',
    };
    const file = path.join(stack.dir.path, 'export.csv');
    const result = await runCli(['manifest', started.runId, '--format', 'csv', '--output', file, '--json', '--expires', '1h'], env);
    expect(result.stderr).toBe('');
    expect(JSON.parse(result.stdout)).toEqual({ runId: started.runId, lines: 7, format: 'csv', output: file });
    const records = parse(await readFile(file, 'utf8'), { columns: true }) as Record<string, string>[];
    expect(records).toHaveLength(7);
    const dangerous = /^[=+\-@\t\r]/;
    for (const record of records) for (const value of Object.values(record)) expect(dangerous.test(value)).toBe(false);
    // Every key survives, neutralised exactly where it had to be.
    expect(records.map((record) => record.key).sort()).toEqual(KEYS.map((key) => (/^[=+\-@\t]/.test(key) ? `'${key}` : key)).sort());
    const safe = records.find((record) => record.key === 'SAFE-1')!;
    expect(safe.image).toMatch(new RegExp(`^s3://${s3.bucket}/export-test/`));
    expect(safe.imageLink).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/.*X-Amz-Signature=/);
    const fetched = await fetch(safe.imageLink!);
    expect(fetched.status).toBe(200);
    expect(Buffer.from(await fetched.arrayBuffer()).subarray(1, 4).toString('latin1')).toBe('PNG');

    const failed = await runCli(['manifest', started.runId, '--status', 'failed'], env);
    const lines = failed.stdout.trim().split('\n').map((line) => JSON.parse(line) as { key: string; errorCode: string });
    expect(lines.map((line) => [line.key, line.errorCode])).toEqual([['@SUM(A1)', 'E_SAFETY_BLOCKED']]);

    const unknown = await runCli(['manifest', 'no-such-run'], env);
    expect([unknown.code, unknown.stderr.trim()]).toEqual([2, 'bunch: E_NOT_FOUND: run no-such-run is not known to this Redis']);
    const badStatus = await runCli(['manifest', started.runId, '--status', 'lost'], env);
    expect([badStatus.code, badStatus.stderr.trim()]).toEqual([2, 'bunch: E_CONFIG: --status lost is not one of succeeded, failed, skipped, cancelled, rejected']);
  });
});

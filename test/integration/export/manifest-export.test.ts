import { createHash, createHmac } from 'node:crypto';
import { readFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CSV_COLUMNS } from '../../../src/export/export-manifest.js';
import type { ManifestLine } from '../../../src/manifest/manifest-line.js';
import { startBunchStack, type BunchStack } from '../../helpers/bunch-stack.js';
import { runCli } from '../../helpers/run-cli.js';
import { s3CliEnv, startS3, type S3Handle } from '../../helpers/start-s3.js';

/**
 * `bunch manifest` end to end: a real run over s3rver (Redis, emulator, workers), exported by the
 * real CLI in a child process, read back with csv-parse. The catalog is hostile on purpose: keys
 * and titles a spreadsheet would run as formulas, commas, quotes and line breaks (titles reach the
 * CSV through the emulator's caption, which repeats the prompt with its white space collapsed, so
 * line breaks are carried by a key), two items the emulator blocks
 * and one duplicate row the planner rejects.
 */
const ROWS: [key: string, title: string][] = [
  ['=HYPERLINK("http://x","y")', '=HYPERLINK("http://x","y")'],
  ['+1', '+1, "quoted", and more'],
  ['-2', '-2\nsecond line of the title'],
  ['@SUM(A1)', '@SUM(A1) [[emu:image-safety]]'],
  ["=cmd|' /C calc'!A0", 'blocked too [[emu:image-safety]]'],
  ['comma, "quote"\nand a line break', 'plain'],
  ['SAFE-1', 'Product, with "quotes"'],
  ['+1', 'a duplicate key: rejected'],
];
const FAILED_KEYS = ['@SUM(A1)', "=cmd|' /C calc'!A0"];
const DANGEROUS_START = /^[=+\-@\t\r]/;

let s3: S3Handle;
let stack: BunchStack;
let runId: string;
let manifest: ManifestLine[];
let env: Record<string, string>;
beforeAll(async () => {
  s3 = await startS3();
  stack = await startBunchStack({ s3: s3.settings });
  await stack.startWorkers();
  const csvText = ['sku,title', ...ROWS.map((cells) => cells.map((cell) => `"${cell.replace(/"/g, '""')}"`).join(','))].join('\n') + '\n';
  const outputUrl = `s3://${s3.bucket}/export-test`;
  const started = await stack.start(await stack.writeJob({ catalogCsv: csvText, outputUrl }));
  runId = started.runId;
  const meta = await stack.waitForRun(runId);
  expect(meta.counts).toMatchObject({ succeeded: 5, failed: 2 });
  manifest = await stack.readManifest(stack.storeFor(outputUrl), runId);
  expect(manifest.map((line) => line.status).sort()).toEqual(['failed', 'failed', 'rejected', 'succeeded', 'succeeded', 'succeeded', 'succeeded', 'succeeded']);
  // The CLI reaches s3rver the way an operator's shell would reach S3: environment only.
  env = s3CliEnv(s3, { redisUrl: stack.redis.url, prefix: stack.prefix });
}, 120_000);
afterAll(async () => {
  await stack?.stop();
  await s3?.stop();
});

/** The cells a manifest line should become, before neutralising (imageLink is checked apart). */
function expectedCells(line: ManifestLine): Record<string, string> {
  const item = line.status === 'rejected' ? undefined : line;
  return {
    key: line.key ?? '',
    variant: item?.variant ?? '',
    itemKey: item?.itemKey ?? '',
    status: line.status,
    errorCode: line.errorCode ?? '',
    errorMessage: line.errorMessage ?? '',
    lane: item?.lane ?? '',
    attempts: item ? String(item.attempts) : '',
    costUsd: item ? String(item.costUsd) : '',
    image: item?.image?.uri ?? '',
    caption: item?.caption?.text ?? '',
    warnings: item?.warnings?.join('; ') ?? '',
    rowNumber: String(line.rowNumber),
    runId: line.runId,
  };
}

/** What a spreadsheet shows for a neutralised cell: the text after the protecting quote. */
function shown(cell: string): string {
  return cell.startsWith("'") && DANGEROUS_START.test(cell.slice(1)) ? cell.slice(1) : cell;
}

/**
 * The SigV4 signature a presigned GET should carry, computed from the AWS documentation's recipe
 * (canonical request, string to sign, derived key), independently of the SDK that made the link.
 */
function sigV4QuerySignature(link: URL, secretAccessKey: string): string {
  const rfc3986 = (text: string) => encodeURIComponent(text).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  const query = [...link.searchParams].filter(([name]) => name !== 'X-Amz-Signature');
  const canonicalQuery = query.map(([name, value]) => `${rfc3986(name)}=${rfc3986(value)}`).sort().join('&');
  const signedHeaders = link.searchParams.get('X-Amz-SignedHeaders')!;
  expect(signedHeaders).toBe('host');
  const canonicalPath = link.pathname.split('/').map((segment) => rfc3986(decodeURIComponent(segment))).join('/');
  const canonicalRequest = ['GET', canonicalPath, canonicalQuery, `host:${link.host}\n`, signedHeaders, 'UNSIGNED-PAYLOAD'].join('\n');
  const [, date, region, service, terminator] = link.searchParams.get('X-Amz-Credential')!.split('/');
  const scope = [date, region, service, terminator].join('/');
  const stringToSign = ['AWS4-HMAC-SHA256', link.searchParams.get('X-Amz-Date'), scope, createHash('sha256').update(canonicalRequest).digest('hex')].join('\n');
  let key: Buffer = Buffer.from(`AWS4${secretAccessKey}`);
  for (const part of [date!, region!, service!, terminator!]) key = createHmac('sha256', key).update(part).digest();
  return createHmac('sha256', key).update(stringToSign).digest('hex');
}

describe('bunch manifest <runId>', () => {
  it('exports CSV in which no cell can run as a formula and every field round-trips', async () => {
    const file = path.join(stack.dir.path, 'export.csv');
    const result = await runCli(['manifest', runId, '--format', 'csv', '--output', file, '--json', '--expires', '1h'], env);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual({ runId, lines: 8, format: 'csv', output: file });
    // Nothing half-written is left next to the file.
    expect((await readdir(stack.dir.path)).filter((name) => name.includes('.partial-'))).toEqual([]);

    const text = await readFile(file, 'utf8');
    const records = parse(text, { columns: true }) as Record<string, string>[];
    expect(Object.keys(records[0]!)).toEqual([...CSV_COLUMNS]);
    expect(records).toHaveLength(manifest.length);
    for (const record of records) for (const value of Object.values(record)) expect(DANGEROUS_START.test(value)).toBe(false);

    const byRow = new Map(records.map((record) => [`${record.status}:${shown(record.key!)}:${record.rowNumber}`, record]));
    for (const line of manifest) {
      const record = byRow.get(`${line.status}:${line.key ?? ''}:${line.rowNumber}`);
      expect(record, `a CSV row for ${JSON.stringify(line.key)}`).toBeDefined();
      const { imageLink, ...cells } = record!;
      expect(Object.fromEntries(Object.entries(cells).map(([name, value]) => [name, shown(value)]))).toEqual(expectedCells(line));
      // Only cells that needed it were touched.
      for (const [name, value] of Object.entries(cells)) {
        const original = expectedCells(line)[name]!;
        expect(value).toBe(DANGEROUS_START.test(original) ? `'${original}` : original);
      }
      expect(Boolean(imageLink)).toBe(line.status === 'succeeded');
    }
    // Hostile values did reach the CSV: formula keys, a rejected row naming one, quotes and line breaks in captions.
    expect(records.map((record) => record.key)).toContain(`'=HYPERLINK("http://x","y")`);
    expect(records.find((record) => record.status === 'rejected')).toMatchObject({ key: "'+1", errorCode: 'E_CATALOG_ROW' });
    expect(records.map((record) => record.caption)).toContain('Here is the image you asked for: Studio product photo of +1, "quoted", and more');
    expect(records.map((record) => record.key)).toContain('comma, "quote"\nand a line break');
  });

  it('gives every succeeded image a presigned SigV4 link that opens the image', async () => {
    const result = await runCli(['manifest', runId, '--format', 'csv', '--expires', '2h'], env);
    expect(result.code).toBe(0);
    const records = parse(result.stdout, { columns: true }) as Record<string, string>[];
    const succeeded = records.filter((record) => record.status === 'succeeded');
    expect(succeeded).toHaveLength(5);
    const { accessKeyId, secretAccessKey } = s3.settings.credentials!;
    for (const record of succeeded) {
      const link = new URL(record.imageLink!);
      expect(link.origin).toBe(s3.endpoint);
      expect(link.searchParams.get('X-Amz-Expires')).toBe('7200');
      expect(link.searchParams.get('X-Amz-Credential')).toMatch(new RegExp(`^${accessKeyId}/\\d{8}/us-east-1/s3/aws4_request$`));
      // s3rver checks the form of a V4 query signature but not the signature itself, so the test does.
      expect(link.searchParams.get('X-Amz-Signature')).toBe(sigV4QuerySignature(link, secretAccessKey));
      const fetched = await fetch(link);
      expect(fetched.status).toBe(200);
      const bytes = Buffer.from(await fetched.arrayBuffer());
      const line = manifest.find((candidate) => candidate.status === 'succeeded' && candidate.image?.uri === shown(record.image!));
      expect(createHash('sha256').update(bytes).digest('hex')).toBe(line?.status === 'succeeded' ? line.image?.sha256 : undefined);
    }
  });

  it('prints the stored JSON lines as they are, and --status keeps exactly the lines asked for', async () => {
    const all = await runCli(['manifest', runId], env);
    expect(all.code).toBe(0);
    const stored = await stack.storeFor(`s3://${s3.bucket}/export-test`).get(`runs/${runId}/manifest.jsonl`);
    expect(all.stdout).toBe(stored!.toString('utf8'));

    const failed = await runCli(['manifest', runId, '--status', 'failed'], env);
    const lines = failed.stdout.trim().split('\n').map((line) => JSON.parse(line) as ManifestLine);
    expect(lines.map((line) => [line.key, line.status, line.errorCode]).sort()).toEqual(FAILED_KEYS.map((key) => [key, 'failed', 'E_SAFETY_BLOCKED']).sort());

    const file = path.join(stack.dir.path, 'failed-or-rejected.csv');
    const some = await runCli(['manifest', runId, '--status', 'failed, rejected', '--format', 'csv', '--output', file, '--json'], env);
    expect(JSON.parse(some.stdout)).toMatchObject({ lines: 3 });
    const records = parse(await readFile(file, 'utf8'), { columns: true }) as Record<string, string>[];
    expect(records.map((record) => record.status).sort()).toEqual(['failed', 'failed', 'rejected']);
    expect(records.every((record) => record.imageLink === '')).toBe(true);
  });

  it('exits 2 with a clear message for an unknown run or bad flags, before writing anything', async () => {
    const cases: [string[], string][] = [
      [['manifest', 'no-such-run'], 'bunch: E_NOT_FOUND: run no-such-run is not known to this Redis'],
      [['manifest', runId, '--status', 'lost'], 'bunch: E_CONFIG: --status lost is not one of succeeded, failed, skipped, cancelled, rejected'],
      [['manifest', runId, '--format', 'xlsx'], 'bunch: E_CONFIG: --format must be jsonl or csv, not "xlsx"'],
      [['manifest', runId, '--format', 'csv', '--expires', '8d'], 'bunch: E_CONFIG: --expires "8d" must be a duration with a unit from 1s to 7d (e.g. 12h)'],
      [['manifest', runId, '--json'], 'bunch: E_CONFIG: --json needs --output (without it, stdout carries the manifest itself)'],
      [['manifest', runId, '--output', path.join(stack.dir.path, 'no-such-dir', 'x.csv')], 'bunch: E_CONFIG: cannot write --output'],
    ];
    for (const [args, message] of cases) {
      const result = await runCli(args, env);
      expect([result.code, result.stdout]).toEqual([2, '']);
      expect(result.stderr.trim().startsWith(message), result.stderr).toBe(true);
    }
  });
});

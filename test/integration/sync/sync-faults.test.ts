import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ManifestItemLine } from '../../../src/manifest/manifest-line.js';
import { startBunchStack, type BunchStack } from '../../helpers/bunch-stack.js';

/**
 * Every error class, driven through the emulator's trigger phrases over real HTTP, lands in the
 * manifest with the right code and the right number of calls (attempts: 3 in this job).
 */
const CASES: { title: string; status: string; errorCode?: string; attempts: number; finishReason?: string }[] = [
  { title: 'plain', status: 'succeeded', attempts: 1 },
  { title: 'flaky [[emu:fail-first=1:503]]', status: 'succeeded', attempts: 2 },
  { title: 'hangs twice [[emu:fail-first=2:hang]]', status: 'succeeded', attempts: 3 },
  { title: 'rate limited once [[emu:fail-first=1:429:retry=100ms]]', status: 'succeeded', attempts: 2 },
  { title: 'always 503 [[emu:503]]', status: 'failed', errorCode: 'E_UPSTREAM', attempts: 3 },
  { title: 'always 500 [[emu:500]]', status: 'failed', errorCode: 'E_UPSTREAM', attempts: 3 },
  { title: 'always 429 [[emu:429:retry=50ms]]', status: 'failed', errorCode: 'E_RATE_LIMITED', attempts: 3 },
  { title: 'always hangs [[emu:hang]]', status: 'failed', errorCode: 'E_TIMEOUT', attempts: 3 },
  { title: 'connection reset [[emu:reset]]', status: 'failed', errorCode: 'E_NETWORK', attempts: 3 },
  { title: 'truncated body [[emu:truncate]]', status: 'failed', errorCode: 'E_MALFORMED_RESPONSE', attempts: 3 },
  { title: 'malformed json [[emu:malformed]]', status: 'failed', errorCode: 'E_MALFORMED_RESPONSE', attempts: 3 },
  { title: 'bad base64 [[emu:bad-base64]]', status: 'failed', errorCode: 'E_BAD_IMAGE', attempts: 2 },
  { title: 'text only [[emu:text-only]]', status: 'failed', errorCode: 'E_NO_IMAGE', attempts: 3 },
  { title: 'no image [[emu:no-image]]', status: 'failed', errorCode: 'E_NO_IMAGE', attempts: 3, finishReason: 'NO_IMAGE' },
  { title: 'unsafe [[emu:image-safety]]', status: 'failed', errorCode: 'E_SAFETY_BLOCKED', attempts: 1, finishReason: 'IMAGE_SAFETY' },
  { title: 'prohibited [[emu:prohibited]]', status: 'failed', errorCode: 'E_SAFETY_BLOCKED', attempts: 1, finishReason: 'IMAGE_PROHIBITED_CONTENT' },
  { title: 'blocked prompt [[emu:block]]', status: 'failed', errorCode: 'E_SAFETY_BLOCKED', attempts: 1, finishReason: 'SAFETY' },
];

describe('sync lane error classes through the emulator', () => {
  let stack: BunchStack;
  beforeAll(async () => {
    stack = await startBunchStack({ concurrency: 8 });
    await stack.startWorkers();
  });
  afterAll(async () => stack?.stop());

  it('records each outcome with its code, finish reason and number of calls', async () => {
    const csv = ['sku,title', ...CASES.map((c, i) => `C${i},"${c.title}"`)].join('\n');
    const jobFile = await stack.writeJob({ catalogCsv: csv, job: { sync: { attempts: 3, timeoutMs: 300, backoff: { initialMs: 20, maxMs: 50, jitter: 0 } } } });
    const started = await stack.start(jobFile);
    const meta = await stack.waitForRun(started.runId);
    // 13 of 17 failed: far beyond the default 2% threshold, so the run itself failed.
    expect(meta.status).toBe('failed');
    expect(meta.counts).toEqual({ succeeded: 4, failed: 13, skipped: 0, cancelled: 0 });

    const manifest = (await stack.readManifest(stack.storeFor(started.outputUrl), started.runId)) as ManifestItemLine[];
    expect(manifest).toHaveLength(CASES.length);
    for (const [i, expected] of CASES.entries()) {
      const line = manifest.find((l) => l.key === `C${i}`);
      const actual = {
        title: expected.title,
        status: line?.status,
        errorCode: line?.errorCode,
        attempts: line?.attempts,
        finishReason: expected.finishReason === undefined ? undefined : line?.finishReason,
      };
      expect(actual).toEqual({ ...expected, errorCode: expected.errorCode, finishReason: expected.finishReason });
    }
    const failed = manifest.filter((l) => l.status === 'failed');
    for (const line of failed) expect(line.errorMessage).toBeTruthy();
    expect(meta.errors).toEqual({
      E_UPSTREAM: 2,
      E_RATE_LIMITED: 1,
      E_TIMEOUT: 1,
      E_NETWORK: 1,
      E_MALFORMED_RESPONSE: 2,
      E_BAD_IMAGE: 1,
      E_NO_IMAGE: 2,
      E_SAFETY_BLOCKED: 3,
    });
  });
});

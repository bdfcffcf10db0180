import { createHash } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import type { FaultName } from '../../src/emulator/knobs.js';
import type { RequestLogEntry } from '../../src/emulator/request-log.js';
import { promptHashOf } from '../../src/emulator/validate-generate-request.js';
import type { ErrorCode } from '../../src/errors/error-code.js';
import { productCsv, startBunchStack, type BunchStack } from '../helpers/bunch-stack.js';
import { expectEachItemOnce } from '../helpers/expect-each-item-once.js';
import { paidCalls } from '../helpers/paid-calls.js';

/**
 * Drill: a bad day at the provider, through real HTTP. A seeded mix of every fault a sync call
 * meets (quota 429s, 5xx, hangs past the call timeout, resets, bodies cut off, answers without an
 * image, safety refusals, broken base64) hits 80 items with 4 attempts each. Every item must end
 * once, with the error code of the last thing that happened to it, and no item may be paid for
 * more often than its answers allow: one usable image, NO_IMAGE at most 3 times, a broken image at
 * most twice, a safety refusal once.
 */
const ITEMS = 80;
const ATTEMPTS = 4;
const FAULT_RATES: Partial<Record<FaultName, number>> = {
  '429': 0.08,
  '500': 0.05,
  '503': 0.06,
  hang: 0.04,
  reset: 0.05,
  truncate: 0.05,
  'no-image': 0.08,
  'image-safety': 0.03,
  'bad-base64': 0.06,
};
/** What each fault becomes in the manifest when it is the item's last call. */
const CODE_OF_FAULT: Record<string, ErrorCode> = {
  '429': 'E_RATE_LIMITED',
  '500': 'E_UPSTREAM',
  '503': 'E_UPSTREAM',
  hang: 'E_TIMEOUT',
  reset: 'E_NETWORK',
  truncate: 'E_MALFORMED_RESPONSE',
  'no-image': 'E_NO_IMAGE',
  'image-safety': 'E_SAFETY_BLOCKED',
  'bad-base64': 'E_BAD_IMAGE',
};
/** Answers that are paid for (HTTP 200) however unusable, and how many of each one item may get. */
const PAID_ANSWER_CAP: Record<string, number> = { clean: 1, 'no-image': 3, 'bad-base64': 2, 'image-safety': 1, truncate: ATTEMPTS };

/** Calls after which a failure of this code is terminal (src/lanes/sync/generate-processor.ts). */
const GIVES_UP_AFTER: Partial<Record<ErrorCode, number>> = { E_SAFETY_BLOCKED: 1, E_NO_IMAGE: 3, E_BAD_IMAGE: 2 };

let stack: BunchStack | undefined;
afterEach(async () => {
  await stack?.stop();
  stack = undefined;
});

describe('chaos: a seeded fault profile over real HTTP', () => {
  it('every item once, failures carry the code of their last call, paid answers within per-code limits', async () => {
    stack = await startBunchStack({ concurrency: 8 });
    const s = stack;
    s.emulator.setKnobs({ faultRates: FAULT_RATES, seed: 7, retryAfterSeconds: 0.2 });
    await s.startWorkers();
    const jobFile = await s.writeJob({
      catalogCsv: productCsv(ITEMS),
      // 1 s call timeout: a hang costs a second, not 35 (answers without a fault take milliseconds).
      job: { sync: { timeoutMs: 1000, attempts: ATTEMPTS, backoff: { initialMs: 20, maxMs: 100, jitter: 0 } } },
    });
    const started = await s.start(jobFile);
    const meta = await s.waitForRun(started.runId, 90_000);
    // Whether the run as a whole passes its failure threshold depends on the draw; both are ends.
    expect(['succeeded', 'failed']).toContain(meta.status);
    const store = s.storeFor(started.outputUrl);
    const lines = expectEachItemOnce(await s.readManifest(store, started.runId), ITEMS);
    expect(meta.counts.succeeded + meta.counts.failed).toBe(ITEMS);

    // Every call, grouped by item (prompts are distinct per row), in the order they were made.
    const rowOfPrompt = new Map<string, string>();
    for (let i = 1; i <= ITEMS; i += 1) rowOfPrompt.set(promptHashOf(`Studio product photo of Product ${i}`), `SKU-${String(i).padStart(4, '0')}`);
    const calls = new Map<string, RequestLogEntry[]>();
    for (const entry of s.emulator.requestLog.list({ route: 'generateContent' })) {
      const row = rowOfPrompt.get(entry.promptHash ?? '');
      expect(row, `a call for an unknown prompt ${entry.promptHash}`).toBeDefined();
      calls.set(row!, [...(calls.get(row!) ?? []), entry]);
    }
    // The profile did what it says: every fault was drawn at least once.
    const faultsSeen = s.emulator.requestLog.stats().byFault;
    for (const fault of Object.keys(FAULT_RATES)) expect(faultsSeen[fault] ?? 0, `fault ${fault} drawn`).toBeGreaterThan(0);

    let paidBound = 0;
    for (const line of lines) {
      const itemCalls = calls.get(line.key) ?? [];
      // Attempts in the manifest are the calls that were made (rate-limit re-queues included).
      expect(itemCalls, line.itemKey).toHaveLength(line.attempts);
      expect(line.attempts).toBeGreaterThanOrEqual(1);
      expect(line.attempts).toBeLessThanOrEqual(ATTEMPTS);
      const paid = itemCalls.filter((call) => call.status === 200);
      const paidBy = (kind: string) => paid.filter((call) => (call.fault ?? 'clean') === kind).length;
      for (const [kind, cap] of Object.entries(PAID_ANSWER_CAP)) expect(paidBy(kind), `${line.itemKey} ${kind}`).toBeLessThanOrEqual(cap);
      expect(paid.every((call) => (call.fault ?? 'clean') in PAID_ANSWER_CAP)).toBe(true);
      // One usable image paid for per succeeded item, none for a failed one.
      expect(paidBy('clean'), line.itemKey).toBe(line.status === 'succeeded' ? 1 : 0);
      // At most one paid answer per call made.
      paidBound += line.attempts;

      if (line.status === 'succeeded') {
        expect(line.errorCode).toBeUndefined();
        const stored = await store.get(line.image!.key);
        expect(stored, `image of ${line.itemKey}`).toBeDefined();
        expect(createHash('sha256').update(stored!).digest('hex')).toBe(line.image!.sha256);
        expect(itemCalls.at(-1)!.fault).toBeUndefined();
      } else {
        expect(line.status).toBe('failed');
        const last = itemCalls.at(-1)!;
        expect(Object.values(CODE_OF_FAULT)).toContain(line.errorCode);
        expect(line.errorCode, `${line.itemKey}: last call ${JSON.stringify(last)}`).toBe(CODE_OF_FAULT[last.fault ?? '']);
        expect(line.image).toBeUndefined();
        // An item gives up only when its policy says so: a safety refusal at once; an unusable
        // answer once the item has made its code's number of calls (NO_IMAGE 3, bad image 2, of
        // any kind); anything else retryable after all ATTEMPTS calls.
        expect(line.attempts, line.itemKey).toBeGreaterThanOrEqual(GIVES_UP_AFTER[line.errorCode!] ?? ATTEMPTS);
      }
    }
    // Bound: paid calls <= Σ attempts over the manifest, and, by kind, one usable image per
    // succeeded item plus the unusable answers (no-image ≤ 3, bad-base64 ≤ 2, image-safety ≤ 1,
    // truncated ≤ attempts per item): checked per item above.
    const paidTotal = paidCalls(s.emulator);
    expect(paidTotal).toBeLessThanOrEqual(paidBound);
    expect(paidTotal).toBe([...calls.values()].flat().filter((call) => call.status === 200).length);
    expect(s.emulator.requestLog.stats().generations.total).toBe(meta.counts.succeeded);
  });
});

import { DelayedError, RateLimitError, type Job, type Queue } from 'bullmq';
import type { Logger } from 'pino';
import { BunchError, toErrorRecord } from '../../errors/bunch-error.js';
import { classifyResponse } from '../../gemini/classify-outcome.js';
import { chargedUsd, estimatedCallUsd } from '../../gemini/run-pricing.js';
import { roundUsd } from '../../gemini/usage-cost.js';
import type { ParsedGenerateResponse } from '../../gemini/parse-generate-response.js';
import type { StepRecord } from '../../runs/item-record.js';
import { forgetTurns, runEditConversation } from './edit-conversation.js';
import { mayHaveBeenBilled } from '../../gemini/billing-uncertainty.js';
import { baseRecord, readStoredOutput, recordFromMarker, storeItemOutput } from '../../outputs/store-item-output.js';
import type { GenerateContentRequest } from '../../gemini/generate-content-request.js';
import { inlineReferences } from '../../references/inline-references.js';
import { ReferenceBytesCache } from '../../references/reference-bytes-cache.js';
import type { ErrorCode } from '../../errors/error-code.js';
import type { ItemRecord } from '../../runs/item-record.js';
import { TERMINAL_RUN_STATUSES } from '../../runs/run-config.js';
import type { RunStore, StopReason } from '../../runs/run-store.js';
import type { ModelCaller } from '../model-caller.js';
import { releaseDependants } from '../dependants/release-dependants.js';
import { failedRecord } from './failed-record.js';
import { enqueueGenerateJobs, withRunSystemInstruction } from '../enqueue-generate-jobs.js';
import { recordItem } from '../record-item.js';
import { stopMessage } from '../stop-message.js';
import { stopsTheRun } from '../../errors/run-stopping-codes.js';
import type { RunContextCache } from '../run-context-cache.js';
import type { GenerateJobData } from './generate-job-data.js';
import { CLAIM_MARGIN_MS, claimToken, holdClaim, holderRunId, type HeldClaim } from './held-claim.js';
import { appendEntry, WORKER_ID, type AttemptEntry } from './attempt-history.js';
import { retryBackoffMs } from './retry-backoff.js';
import type { OutputIdentity } from '../../runs/output-claims.js';
import type { ClaimRelease } from '../../runs/record-log.js';
import { withinDeadline } from './within-deadline.js';
import { withStorageRetries } from './with-storage-retries.js';

export interface GenerateProcessorDeps {
  runs: RunStore;
  contexts: RunContextCache;
  model: ModelCaller;
  /** The queue the processor runs on: a 429 with a server-given wait pauses it for every worker. */
  generateQueue: Queue<GenerateJobData>;
  onRunComplete(runId: string): Promise<void>;
  onRunStopped(runId: string, reason: StopReason): Promise<void>;
  logger: Logger;
  /** Waits between in-process retries of storage writes after a paid call (tests shorten them). */
  storeRetryDelaysMs?: readonly number[];
  /** Reference images recently sent by this worker (shared photos are read from storage once). */
  referenceCache?: ReferenceBytesCache;
  /** How long a job waits before looking again at an output another worker is generating (default 5 s). */
  claimRecheckMs?: number;
  /** Overall deadline of one delivery (call + store + record); default the call timeout + 60 s. */
  jobDeadlineMs?: number;
  /** Longest queue-wide pause a 429 may cause (default 5 min); longer waits delay this run's items one by one. */
  queuePauseCapMs?: number;
  /** Told of each queue-wide pause this processor asks for (metrics). */
  onQueuePaused?: (ms: number) => void;
}

/**
 * Answers that were paid for but unusable are asked again at most this many times in total,
 * whatever `attempts` says: NO_IMAGE sometimes clears, an undecodable image rarely does.
 */
const PAID_ANSWER_LIMITS: Partial<Record<ErrorCode, number>> = { E_NO_IMAGE: 3, E_BAD_IMAGE: 2, E_BAD_CAPTION: 2 };
/** ~15 s of storage trouble is ridden out in process before a paid item is given up as failed. */
const STORE_RETRY_DELAYS_MS = [500, 1000, 2000, 4000, 8000];
const CLAIM_RECHECK_MS = 5000;
/** Storing and recording get this long beyond the call's own timeout before a delivery gives up its slot. */
const JOB_DEADLINE_MARGIN_MS = 60_000;
const QUEUE_PAUSE_CAP_MS = 5 * 60_000;

function jitterMs(upToMs: number): number {
  return Math.floor(Math.random() * upToMs);
}

/**
 * One delivery of one item. BullMQ delivers at least once, so every step is safe to repeat:
 *  1. an item that already has a terminal record is done (duplicate delivery);
 *  2. a run told to stop (cancel, bad API key, budget) records the item cancelled without a call;
 *  3. the output is claimed in Redis (keyed by where it is written and its input, not by run):
 *     while another delivery or another run holds the claim, this job waits and looks again
 *     (the claim is asked for together with 1 and 2, and given back when they end the delivery);
 *  4. outputs already in storage (marker present) are recorded without a call: never pay twice;
 *  5. otherwise call the model with a hard timeout, store (marker last), release the claim, record.
 * Failures of the call are classified once (src/gemini/classify-outcome.ts): retryable ones are
 * thrown back to BullMQ until `attempts` calls were made (rate-limit re-queues included), then
 * recorded failed. Recording itself happens outside that classification: if Redis fails while
 * recording, the job is retried and finds the stored marker, so a paid result is never turned
 * into a failure by an infrastructure blip.
 */
export function createGenerateProcessor(deps: GenerateProcessorDeps) {
  const storeRetryDelays = deps.storeRetryDelaysMs ?? STORE_RETRY_DELAYS_MS;
  const referenceCache = deps.referenceCache ?? new ReferenceBytesCache();

  return async function processGenerateJob(job: Job<GenerateJobData>, token?: string): Promise<string> {
    const { config } = await deps.contexts.get(job.data.runId);
    // A multi-turn edit makes one call per turn.
    const calls = (job.data.steps?.length ?? 0) + 1;
    const deadlineMs = deps.jobDeadlineMs ?? calls * config.sync.timeoutMs + JOB_DEADLINE_MARGIN_MS;
    const outcome = await withinDeadline(processItem(job, token), deadlineMs, (late) =>
      // The work goes on in the background (it holds the output claim, so nobody pays twice) and
      // may still record the item; this delivery's slot is freed now.
      late.catch((error: unknown) => deps.logger.warn({ err: toErrorRecord(error), item: job.data.itemKey }, 'work past its deadline ended in an error')),
    );
    // Dependants move on only once this item is terminal; a delivery that died before releasing
    // them is redelivered, finds the item terminal ('duplicate') and releases them then.
    if (outcome !== 'late' && job.data.dependants?.length) await releaseOf(deps, job.data);
    return outcome;
  };

  async function processItem(job: Job<GenerateJobData>, jobToken: string | undefined): Promise<string> {
    const data = job.data;
    const { runs } = deps;
    const { config, store } = await deps.contexts.get(data.runId);
    const identity: OutputIdentity = { markerUri: store.uriFor(data.markerKey), inputHash: data.inputHash };
    const claimTtlMs = config.sync.timeoutMs + CLAIM_MARGIN_MS;
    const token = claimToken(data.runId, data.index, job.attemptsStarted);
    // The output claim is asked for in the same round trip as the item's control fields: nearly
    // every delivery needs it. One that turns out not to — the item is done, the run stopped or
    // waits for its quota — gives it back at once.
    const { terminal, status, stop, quotaUntil, claim } = await runs.beginDelivery(data.runId, data.index, { identity, token, ttlMs: claimTtlMs });
    const returnClaim = async () => {
      if (claim.taken) await runs.claims.release(identity, token).catch(() => undefined);
    };
    if (terminal) {
      await returnClaim();
      // The request to finalize may have been lost with a worker that died right after recording.
      if (await runs.needsFinalize(data.runId)) await deps.onRunComplete(data.runId);
      return 'duplicate';
    }
    // Waiting (on another holder's claim, on the quota) re-activates the job without being an attempt.
    const attempt = Math.max(1, job.attemptsStarted - (data.waits ?? 0));
    const startedAt = new Date().toISOString();
    // The record carries the item's story so far (job.data is current after each updateData).
    // The record also gives back what the budget holds for the item's call (whoever reserved it).
    const finish = (record: ItemRecord, claim?: ClaimRelease) =>
      recordItem(runs, store, data.runId, withStory(record, job.data.history), deps.onRunComplete, claim ? { claim } : {});

    // A late duplicate after the manifest was written: the item is in it already.
    if (status && TERMINAL_RUN_STATUSES.includes(status)) {
      await returnClaim();
      return 'late';
    }
    if (stop) {
      await returnClaim();
      await finish(cancelledRecord(data, stop, attempt - 1));
      return 'cancelled';
    }
    // The run learnt that its quota is gone for longer than a queue-wide pause: wait it out, no call.
    if (quotaUntil !== undefined && quotaUntil > Date.now()) {
      await returnClaim();
      const waitMs = quotaUntil - Date.now() + jitterMs(1000);
      await waitWithoutCalling(job, jobToken, waitMs, { attempt, outcome: 'quota-wait', retryDelayMs: waitMs, note: `quota exhausted until ${new Date(quotaUntil).toISOString()}` });
    }

    const fromMarker = async (marker: NonNullable<Awaited<ReturnType<typeof readStoredOutput>>>) => {
      // This run's own earlier delivery stored it: succeeded. Another run did: skipped, naming that run.
      const status = marker.runId === data.runId ? 'succeeded' : 'skipped';
      await finish(recordFromMarker(data, marker, status, 'sync', attempt - 1, data.runId));
      return 'reused';
    };
    if (!claim.taken) {
      const written = await readStoredOutput(store, data);
      if (written) return fromMarker(written);
      deps.logger.info({ runId: data.runId, item: data.itemKey, heldBy: holderRunId(claim.holder) }, 'output is being generated elsewhere; waiting');
      const recheck = deps.claimRecheckMs ?? CLAIM_RECHECK_MS;
      const waitMs = Math.min(claim.ttlMs + 50, recheck) + jitterMs(Math.min(1000, recheck / 2));
      await waitWithoutCalling(job, jobToken, waitMs, { attempt, outcome: 'claim-wait', retryDelayMs: waitMs, note: `output being generated by run ${holderRunId(claim.holder)}` });
    }
    const held = holdClaim(runs.claims, identity, token, {
      ttlMs: claimTtlMs,
      maxHoldMs: claimTtlMs + ((data.steps?.length ?? 0) + 1) * config.sync.timeoutMs + 60_000,
      logger: deps.logger,
    });
    try {
      const stored = await readStoredOutput(store, data);
      if (stored) return await fromMarker(stored);
      return await callStoreRecord(job, jobToken, { config, store, attempt, startedAt, finish, held });
    } finally {
      await held.release();
    }
  }

  /** Moves the job to delayed without using an attempt; it looks at everything again when it is back. */
  async function waitWithoutCalling(
    job: Job<GenerateJobData>,
    jobToken: string | undefined,
    delayMs: number,
    entry: Omit<AttemptEntry, 'at' | 'worker'>,
  ): Promise<never> {
    await job.updateData({ ...job.data, waits: (job.data.waits ?? 0) + 1, history: appendEntry(job.data.history, entry) });
    await job.moveToDelayed(Date.now() + Math.max(0, Math.round(delayMs)), jobToken);
    throw new DelayedError();
  }

  async function callStoreRecord(
    job: Job<GenerateJobData>,
    jobToken: string | undefined,
    step: {
      config: Awaited<ReturnType<RunContextCache['get']>>['config'];
      store: Awaited<ReturnType<RunContextCache['get']>>['store'];
      attempt: number;
      startedAt: string;
      finish: (record: ItemRecord, claim?: ClaimRelease) => Promise<unknown>;
      held: HeldClaim;
    },
  ): Promise<string> {
    const data = job.data;
    const { runs } = deps;
    const { config, store, attempt, startedAt, finish, held } = step;
    // Reserved before the calls at an upper estimate; the answers' usage decides what they cost.
    const calls = (data.steps?.length ?? 0) + 1;
    const estimate = estimatedCallUsd(config.pricing, 'sync', data.variant, config.wantImage);
    const reserved = config.budgetUsd === undefined ? 0 : roundUsd(estimate * calls);
    const reservation = config.budgetUsd === undefined ? 'reserved' : await runs.budget.reserve(data.runId, reserved, config.budgetUsd, data.index);
    // Another record of the item landed since this delivery looked: the call would be paid for nothing.
    if (reservation === 'terminal') return 'duplicate';
    if (reservation === 'over-budget') {
      if (await runs.requestStop(data.runId, 'E_BUDGET')) await deps.onRunStopped(data.runId, 'E_BUDGET');
      await finish(cancelledRecord(data, 'E_BUDGET', attempt - 1));
      return 'cancelled';
    }

    let record: ItemRecord;
    // What this delivery's answered calls cost (every answer is billed, usable or not).
    let price = 0;
    let paid = false;
    const charge = (response: ParsedGenerateResponse): number => {
      const usd = chargedUsd(config.pricing, 'sync', data.variant, response.usage, response.images.length);
      price = roundUsd(price + usd);
      paid = true;
      return usd;
    };
    const callStartedAt = Date.now();
    try {
      // Reference images are read from storage into the body only now (never into Redis).
      const queued = withRunSystemInstruction(data.request, config.systemInstruction);
      const request = (data.references?.length
        ? await inlineReferences(queued as unknown as GenerateContentRequest, store, referenceCache)
        : queued) as unknown as GenerateContentRequest;
      const call = (body: GenerateContentRequest) =>
        deps.model.generateContent(data.model, body, { timeoutMs: config.sync.timeoutMs, ...(config.protocol ? { protocol: config.protocol } : {}) });
      let answer: { response: ParsedGenerateResponse; latencyMs: number; steps?: StepRecord[] };
      if (data.steps?.length) {
        answer = await runEditConversation({
          store,
          target: data,
          runId: data.runId,
          request,
          steps: data.steps,
          keepSteps: config.keepSteps ?? false,
          call,
          charge,
          refusalOf: (response) => classifyResponse(response, { wantImage: true }),
          persist: (write) => withStorageRetries(storeRetryDelays, write),
        });
      } else {
        answer = await call(request);
        charge(answer.response);
        const refusal = classifyResponse(answer.response, { wantImage: config.wantImage });
        if (refusal) throw refusal;
      }
      const { response, latencyMs, steps } = answer;
      record = await withStorageRetries(storeRetryDelays, () =>
        storeItemOutput(store, data, response, {
          runId: data.runId,
          lane: 'sync',
          wantImage: config.wantImage,
          wantText: config.wantText,
          ...(config.captionSchema ? { captionSchema: config.captionSchema } : {}),
          ...(config.saveThoughts ? { saveThoughts: true } : {}),
          ...(steps ? { steps } : {}),
          attempts: attempt,
          latencyMs,
          costUsd: price,
          startedAt,
        }),
      );
      if (data.steps?.length) await forgetTurns(store, data, data.steps.length);
    } catch (error) {
      const failure = asBunchError(error);
      if (stopsTheRun(failure.code) && (await runs.requestStop(data.runId, failure.code))) {
        deps.logger.error({ runId: data.runId, code: failure.code, message: failure.message }, `${stopMessage(failure.code)}: stopping the run`);
        await deps.onRunStopped(data.runId, failure.code);
      }
      const limit = Math.min(PAID_ANSWER_LIMITS[failure.code] ?? config.sync.attempts, config.sync.attempts);
      // Storage that still fails after the in-process retries is not retried through BullMQ: that
      // would call (and pay for) the model again for outputs we may not be able to store either.
      const retryThroughQueue = failure.retryable && attempt < limit && !(paid && failure.code === 'E_STORAGE');
      if (retryThroughQueue) {
        // A paid answer we could not use (e.g. a broken image) still cost money: it counts in the
        // run's total and against the budget; an unpaid attempt just gives its reservation back.
        const spent = paid ? { costUsd: price } : mayHaveBeenBilled(failure) ? { uncertainUsd: estimate } : undefined;
        if (spent || reserved) await runs.budget.settleCall(data.runId, data.index, spent ?? {});
        deps.logger.warn(
          { runId: data.runId, item: data.itemKey, attempt, code: failure.code, retryAfterMs: failure.retryAfterMs },
          'retrying item',
        );
        const step = { attempt, code: failure.code, latencyMs: Date.now() - callStartedAt, ...(failure.status ? { httpStatus: failure.status } : {}) };
        // Stopped while this call ran: the item ends now. `bunch cancel` released the run's waiting
        // jobs when it was asked; one delayed after that would wait out its backoff — or a daily
        // quota's reset, hours — before it could be recorded, and the run with it.
        const { stop } = await runs.getControl(data.runId);
        if (stop) {
          await job.updateData({ ...job.data, history: appendEntry(job.data.history, { ...step, outcome: 'cancelled', note: 'the run was stopped while this call ran' }) });
          await finish(cancelledRecord(data, stop, attempt), held.handOver());
          return 'cancelled';
        }
        if (failure.code === 'E_RATE_LIMITED' && failure.retryAfterMs !== undefined) {
          if (failure.retryAfterMs <= (deps.queuePauseCapMs ?? QUEUE_PAUSE_CAP_MS)) {
            // Queue-wide pause: every worker of the fleet waits, not only this one (needs a limiter on the worker).
            await job.updateData({ ...job.data, history: appendEntry(job.data.history, { ...step, outcome: 'rate-limited', retryDelayMs: failure.retryAfterMs, note: 'queue paused for every worker' }) });
            await runs.noteRetry(data.runId, failure.code, true);
            await deps.generateQueue.rateLimit(failure.retryAfterMs);
            deps.onQueuePaused?.(failure.retryAfterMs);
            throw new RateLimitError();
          }
          // A daily quota: pausing the shared queue for hours would stall every other run, silently.
          // This run's items wait individually instead, and `status` says until when.
          const until = Date.now() + failure.retryAfterMs;
          await runs.noteQuotaExhausted(data.runId, until);
          deps.logger.warn({ runId: data.runId, until: new Date(until).toISOString() }, 'quota exhausted: the run\'s items wait until it resets');
          await job.updateData({ ...job.data, history: appendEntry(job.data.history, { ...step, outcome: 'quota-wait', retryDelayMs: failure.retryAfterMs }) });
          await runs.noteRetry(data.runId, failure.code);
          await job.moveToDelayed(until + jitterMs(1000), jobToken);
          throw new DelayedError();
        }
        await runs.noteRetry(data.runId, failure.code);
        // The wait is chosen here (and used by the worker's backoff strategy) so the story tells it exactly.
        const delayMs = retryBackoffMs(attempt, data.backoff, failure.retryAfterMs);
        await job.updateData({ ...job.data, history: appendEntry(job.data.history, { ...step, outcome: 'retry', retryDelayMs: delayMs }) });
        throw Object.assign(failure, { chosenDelayMs: delayMs });
      }
      record = failedRecord(data, failure, attempt, startedAt);
      // A call that returned an answer was billed even if its outputs could not be used.
      if (paid) record.costUsd = price;
      // One whose outcome is unknown may have been: it stays counted against the budget.
      else if (mayHaveBeenBilled(failure)) await runs.budget.settleCall(data.runId, data.index, { uncertainUsd: estimate });
    }
    // Outputs and marker are written (or the item failed): the claim has done its job. The record
    // frees it in the same round trip.
    await finish(record, held.handOver());
    return record.status;
  }
}

/** Who releases dependants on the sync lane (RunStore.claimRelease). */
export const SYNC_RELEASE_OWNER = 'sync';

/** Sync-lane release of a terminal item's dependants: completed drafts are enqueued like any item. */
export async function releaseOf(deps: Pick<GenerateProcessorDeps, 'runs' | 'contexts' | 'generateQueue' | 'onRunComplete'>, data: GenerateJobData): Promise<void> {
  const { config, store } = await deps.contexts.get(data.runId);
  await releaseDependants(
    {
      runs: deps.runs,
      store,
      onRunComplete: deps.onRunComplete,
      lane: 'sync',
      owner: SYNC_RELEASE_OWNER,
      route: async (work) => void (await enqueueGenerateJobs(deps.generateQueue, config, work)),
    },
    data.runId,
    data,
    data.dependants ?? [],
  );
}

function asBunchError(error: unknown): BunchError {
  if (error instanceof BunchError) return error;
  const record = toErrorRecord(error);
  return new BunchError('E_INTERNAL', record.message, { cause: error, retryable: false });
}

function cancelledRecord(data: GenerateJobData, reason: StopReason, attempts: number): ItemRecord {
  const record = baseRecord(data, 'sync', 'cancelled', new Date().toISOString());
  record.attempts = attempts;
  record.errorCode = reason;
  record.errorMessage = stopMessage(reason);
  return record;
}

/** The record with who made it and, when there was more than one step, the steps before the last. */
function withStory(record: ItemRecord, history: readonly AttemptEntry[] | undefined): ItemRecord {
  return { ...record, worker: WORKER_ID, ...(history?.length ? { history: [...history] } : {}) };
}

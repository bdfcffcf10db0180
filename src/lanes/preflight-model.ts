/**
 * The model preflight: one models.get before a run is created, so a wrong key, a retired or
 * misspelled model, a project the API refuses (region, billing) or a proxy blocking the API fails
 * the run at start with one sentence, instead of after thousands of items were queued and each
 * paid a round trip to learn the same thing.
 *
 * What it is sure of blocks the run: E_AUTH, E_MODEL_NOT_FOUND, E_PRECONDITION, E_GATEWAY_BLOCKED,
 * and a model that lacks the method the lane calls. What may be a flaky moment (network, timeout,
 * 5xx, 429, a garbled answer: the retryable codes) is retried a couple of times and then only
 * reported, as is any other unexpected answer: a nightly run must not fail because models.get
 * hiccuped, and the lanes classify and retry their own calls anyway.
 */
import { BunchError, errorCodeOf } from '../errors/bunch-error.js';
import type { ErrorCode } from '../errors/error-code.js';
import type { GeminiClient, ModelResource } from '../gemini/gemini-client.js';
import type { Lane } from '../spec/resolved-job.js';

export type ModelPreflight = (model: string, lane: Lane) => Promise<void>;

export interface PreflightModelOptions {
  client: Pick<GeminiClient, 'getModel'>;
  model: string;
  lane: Lane;
  /** Called once when the check could not be made and the run goes ahead anyway. */
  onSkipped?: (message: string, error: BunchError) => void;
  /** Calls in all, the first included. Default 3. */
  attempts?: number;
  /** Wait before the second call; doubled for each further one. Default 1 s. */
  retryDelayMs?: number;
  /** Deadline of each call. Default 15 s. */
  timeoutMs?: number;
  signal?: AbortSignal;
}

/** Lanes → the generation methods their calls need. A batch run spills unfinished items to sync by default. */
const METHODS_FOR_LANE: Readonly<Record<Lane, readonly string[]>> = {
  sync: ['generateContent'],
  batch: ['batchGenerateContent', 'generateContent'],
  auto: ['generateContent', 'batchGenerateContent'],
};

/** Sure answers about the key, the project, the model or the path to the API: they block the run. */
const BLOCKING: ReadonlySet<ErrorCode> = new Set<ErrorCode>(['E_AUTH', 'E_MODEL_NOT_FOUND', 'E_PRECONDITION', 'E_GATEWAY_BLOCKED']);

export async function preflightModel(options: PreflightModelOptions): Promise<void> {
  const found = await lookUpModel(options);
  if (found) assertLaneSupported(options.model, options.lane, found.supportedGenerationMethods);
}

/** models.get with retries; undefined when the run should go ahead unchecked. */
async function lookUpModel(options: PreflightModelOptions): Promise<ModelResource | undefined> {
  const { client, model } = options;
  const attempts = Math.max(1, options.attempts ?? 3);
  const call = { timeoutMs: options.timeoutMs ?? 15_000, ...(options.signal ? { signal: options.signal } : {}) };
  let delayMs = options.retryDelayMs ?? 1000;
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await client.getModel(model, call);
    } catch (error) {
      const code = errorCodeOf(error);
      if (BLOCKING.has(code) && error instanceof BunchError) {
        // The classified message already says what was refused; this names the model it was about.
        const status = error.status === undefined ? {} : { status: error.status };
        throw new BunchError(code, `model preflight for "${model}": ${error.message}`, { cause: error, ...status });
      }
      // Our own mistakes and cancellation are not the API's flakiness: they end the start as they are.
      if (!(error instanceof BunchError) || code === 'E_CONFIG' || code === 'E_CANCELLED') throw error;
      if (error.retryable && attempt < attempts) {
        await sleep(delayMs, options.signal);
        delayMs *= 2;
        continue;
      }
      options.onSkipped?.(
        `model preflight for "${model}" could not be completed after ${attempt} call(s) (${code}: ${error.message}); starting the run anyway`,
        error,
      );
      return undefined;
    }
  }
}

/** A model the API lists without the method a lane calls answers that method with 404: say so now. */
function assertLaneSupported(model: string, lane: Lane, supported: readonly string[]): void {
  // An answer without the list (a gateway that trims fields) proves nothing either way.
  if (supported.length === 0) return;
  const missing = METHODS_FOR_LANE[lane].filter((method) => !supported.includes(method));
  if (missing.length === 0) return;
  throw new BunchError(
    'E_MODEL_NOT_FOUND',
    `model preflight for "${model}": the model does not support ${missing.join(' and ')}, which the ${lane} lane calls (it supports ${supported.join(', ')})`,
  );
}

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}

/**
 * The `preflight` a CLI verb hands to startRun: one client, the same onSkipped for every model.
 */
export function createModelPreflight(
  client: Pick<GeminiClient, 'getModel'>,
  onSkipped: (message: string, error: BunchError) => void,
  options: Pick<PreflightModelOptions, 'attempts' | 'retryDelayMs' | 'timeoutMs'> = {},
): ModelPreflight {
  return (model, lane) => preflightModel({ ...options, client, model, lane, onSkipped });
}

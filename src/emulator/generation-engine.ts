import { createHash } from 'node:crypto';
import type { GenerateOutcome } from './emulator-context.js';
import { GoogleApiError } from './google-error.js';
import { blockedResponse, finishReasonResponse, successResponse } from './generate-response.js';
import {
  FAULT_NAMES,
  TRANSPORT_FAULTS,
  mergeKnobs,
  requestsPerMinuteFor,
  type EmulatorKnobs,
  type FaultName,
  type KnobsInput,
  type OutageName,
} from './knobs.js';
import { outputPixels } from '../gemini/model-catalog.js';
import { preconditionError } from './outage-answers.js';
import { quotaError } from './quota-error.js';
import { renderImage } from './render-image.js';
import type { RequestLog } from './request-log.js';
import { RpmQuota } from './rpm-quota.js';
import { sampleLatencyMs } from './sample-latency.js';
import { createSeededRandom, type RandomSource } from './seeded-random.js';
import { parseTriggerPhrases, stripTriggerPhrases, type FaultSpec } from './trigger-phrases.js';
import type { InputFileResolver } from './files/input-file-resolver.js';
import { toLoggedInputImage } from './input-image.js';
import {
  checkGenerateRequest,
  completeGenerateRequest,
  type PrepareFailure,
  type ValidatedGenerateRequest,
} from './prepare-generate-request.js';
import type { LoggedInputImage, RequestAnnotation } from './request-log.js';

/**
 * The emulated model: validation, then the request's fate (RPM quota, trigger phrases, fail-first
 * counters, random fault rates drawn from the seeded PRNG), then the answer with a deterministic
 * image. Transport faults (latency, hang, reset, truncate, malformed) are only planned here; the
 * HTTP surfaces carry them out and batch items ignore them. Input images (inline, or fileData
 * naming the emulator's own files) are read by prepare-generate-request.ts, the same way for
 * HTTP requests and batch items.
 */
export type TransportFault = 'hang' | 'reset' | 'truncate' | 'malformed' | 'gateway-403';

export interface TransportPlan {
  /** Delay before answering, already multiplied by timeScale. */
  delayMs: number;
  fault?: TransportFault;
}

export interface EngineResult {
  outcome: GenerateOutcome;
  transport: TransportPlan;
  /** The fault applied to this request, for the request log. */
  fault?: string;
  model?: string;
  promptHash?: string;
  /** The request's input images, for the request log (absent when the body did not parse). */
  inputImages?: LoggedInputImage[];
  /** Contents (turns) in the request, and thought signatures its model turns sent back. */
  turns?: number;
  echoedSignatures?: number;
}

export interface RunOptions {
  /** true on HTTP surfaces; false inside a batch (no transport faults, no RPM quota). */
  transport: boolean;
  /** Per-request knob overrides (the `x-emulator-knobs` header). */
  overrides?: KnobsInput;
  apiVersion?: string;
}

export interface GenerationEngineOptions {
  knobs(): EmulatorKnobs;
  requestLog: RequestLog;
  now(): number;
  /** Follows fileData URIs into the emulator's Files API; without it they only seed the pattern. */
  inputFiles?: InputFileResolver;
}

/** What a route writes into the request log entry of an HTTP request the engine ran. */
export function requestAnnotationOf(result: EngineResult): RequestAnnotation {
  return {
    ...(result.model === undefined ? {} : { model: result.model }),
    ...(result.promptHash === undefined ? {} : { promptHash: result.promptHash }),
    ...(result.fault === undefined ? {} : { fault: result.fault }),
    ...(result.inputImages === undefined ? {} : { inputImages: result.inputImages }),
    ...(result.turns === undefined ? {} : { turns: result.turns }),
    ...(result.echoedSignatures === undefined ? {} : { echoedSignatures: result.echoedSignatures }),
  };
}

/** A request refused before its fate is decided: answered at once, with what was learned of it. */
function rejected({ error, ok: _ok, ...known }: PrepareFailure): EngineResult {
  return { ...known, outcome: { ok: false, error }, transport: { delayMs: 0 } };
}

/**
 * A gateway's 403 never reaches the API, so there is no API answer: this stands in for one in the
 * outcome, and every HTTP surface's deliverResponse sends the gateway's HTML page instead.
 */
function gatewayStandIn(): GoogleApiError {
  return new GoogleApiError(403, 'PERMISSION_DENIED', 'Blocked by a gateway in front of the API (the HTTP answer is its HTML page).');
}

/** A standing outage (the `outage` knob): no validation, no draws, no quota; the request never gets that far. */
function outageResult(outage: OutageName): EngineResult {
  if (outage === 'gateway-403') {
    return { fault: outage, outcome: { ok: false, error: gatewayStandIn() }, transport: { delayMs: 0, fault: outage } };
  }
  return { fault: outage, outcome: { ok: false, error: preconditionError() }, transport: { delayMs: 0 } };
}

const MESSAGES = {
  internal: 'An internal error has occurred. Please retry or report in https://developers.generativeai.google/guide/troubleshooting',
  unavailable: 'This model is currently experiencing high demand. Spikes in demand are usually temporary. Please try again later.',
};

export class GenerationEngine {
  private random: RandomSource;
  private seed: number;
  private readonly quota = new RpmQuota();
  private readonly failFirstCounts = new Map<string, number>();
  private responseCounter = 0;

  constructor(private readonly options: GenerationEngineOptions) {
    this.seed = options.knobs().seed;
    this.random = createSeededRandom(this.seed);
  }

  async run(modelName: string, body: unknown, runOptions: RunOptions): Promise<EngineResult> {
    const current = this.options.knobs();
    // A new seed (setKnobs) restarts the PRNG; a per-request header cannot reseed the shared stream.
    if (current.seed !== this.seed) {
      this.seed = current.seed;
      this.random = createSeededRandom(current.seed);
    }
    const knobs = runOptions.overrides ? mergeKnobs(current, runOptions.overrides) : current;
    // A gateway page has no meaning inside a batch; a precondition outage fails batch items too.
    if (knobs.outage === 'precondition' || (knobs.outage === 'gateway-403' && runOptions.transport)) return outageResult(knobs.outage);
    const checked = checkGenerateRequest(modelName, body, runOptions.apiVersion);
    if (!checked.ok) return rejected(checked);
    // Always draw latency and fault, so the PRNG sequence does not depend on triggers; and draw
    // before reading input files, so it follows arrival order, not file-read completion.
    const drawnLatency = sampleLatencyMs(knobs.latency, this.random);
    const drawnFault = this.drawFault(knobs);
    const prepared = await completeGenerateRequest(checked.parsed, this.options.inputFiles);
    if (!prepared.ok) return rejected(prepared);
    const request = prepared.request;
    const base = {
      model: request.model.id,
      promptHash: request.promptHash,
      inputImages: request.inputImages.map(toLoggedInputImage),
      turns: request.turns,
      echoedSignatures: request.echoedSignatures,
    };
    const triggers = parseTriggerPhrases(request.promptText);
    const delayMs = (triggers.latencyMs ?? drawnLatency) * knobs.timeScale;

    if (runOptions.transport) {
      const limit = requestsPerMinuteFor(knobs, request.model.id);
      if (limit !== undefined) {
        const admitted = this.quota.tryAdmit(request.model.id, limit, 60_000 * knobs.timeScale, this.options.now());
        if (!admitted.ok) {
          const error = quotaError(request.model.id, admitted.retryAfterMs, knobs.retryAfterHeader, limit);
          return { ...base, outcome: { ok: false, error }, transport: { delayMs: 0 }, fault: 'rpm' };
        }
      }
    }

    let spec: FaultSpec | undefined = triggers.fault;
    if (!spec && triggers.failFirst) {
      const seen = this.failFirstCounts.get(request.promptHash) ?? 0;
      this.failFirstCounts.set(request.promptHash, seen + 1);
      if (seen < triggers.failFirst.count) spec = triggers.failFirst.spec;
    }
    spec ??= drawnFault === undefined ? undefined : { fault: drawnFault };
    if (spec && TRANSPORT_FAULTS.has(spec.fault) && !runOptions.transport) spec = undefined;

    const fault = spec?.fault;
    const transport: TransportPlan = { delayMs };
    const responseId = this.responseId(request);
    switch (fault) {
      case '429': {
        const retryAfterMs = (spec?.retryAfterMs ?? knobs.retryAfterSeconds * 1000) * knobs.timeScale;
        // Quota rejections are immediate, unless a trigger asked for a delay explicitly.
        const quotaDelayMs = (triggers.latencyMs ?? 0) * knobs.timeScale;
        return {
          ...base,
          fault,
          transport: { delayMs: quotaDelayMs },
          outcome: { ok: false, error: quotaError(request.model.id, retryAfterMs, knobs.retryAfterHeader) },
        };
      }
      case '500':
        return { ...base, fault, transport, outcome: { ok: false, error: new GoogleApiError(500, 'INTERNAL', MESSAGES.internal) } };
      case '503':
        return { ...base, fault, transport, outcome: { ok: false, error: new GoogleApiError(503, 'UNAVAILABLE', MESSAGES.unavailable) } };
      case 'precondition':
        return { ...base, fault, transport, outcome: { ok: false, error: preconditionError() } };
      case 'gateway-403':
        return { ...base, fault, transport: { delayMs, fault }, outcome: { ok: false, error: gatewayStandIn() } };
      case 'no-image':
        return { ...base, fault, transport, outcome: { ok: true, response: finishReasonResponse(request, 'NO_IMAGE', responseId) } };
      case 'image-safety':
        return { ...base, fault, transport, outcome: { ok: true, response: finishReasonResponse(request, 'IMAGE_SAFETY', responseId) } };
      case 'prohibited':
        return {
          ...base,
          fault,
          transport,
          outcome: { ok: true, response: finishReasonResponse(request, 'IMAGE_PROHIBITED_CONTENT', responseId) },
        };
      case 'block':
        return {
          ...base,
          fault,
          transport,
          outcome: { ok: true, response: blockedResponse(request, spec?.blockReason ?? 'SAFETY', responseId) },
        };
      case 'text-only':
        return {
          ...base,
          fault,
          transport,
          outcome: { ok: true, response: successResponse(request, { imageBase64: undefined, caption: true, responseId }) },
        };
      default:
        break;
    }

    const imageBase64 = request.wantImage ? (await this.render(request, knobs, triggers.size)).toString('base64') : undefined;
    const answer = {
      caption: request.wantText,
      responseId,
      ...(triggers.badJson ? { badJson: true } : {}),
      ...(request.includeThoughts && imageBase64 !== undefined ? { thoughtImageBase64: (await this.renderThought(request)).toString('base64') } : {}),
    };
    if (fault === 'bad-base64') {
      const corrupted = `@@not-base64@@${(imageBase64 ?? '').slice(14)}`;
      return { ...base, fault, transport, outcome: { ok: true, response: successResponse(request, { ...answer, imageBase64: corrupted }) } };
    }
    const response = successResponse(request, { ...answer, imageBase64 });
    if (fault === 'hang' || fault === 'reset' || fault === 'truncate' || fault === 'malformed') {
      return { ...base, fault, transport: { delayMs, fault }, outcome: { ok: true, response } };
    }
    if (imageBase64 !== undefined) this.options.requestLog.recordGeneration(request.model.id, request.promptHash, runOptions.transport ? 'http' : 'batch');
    return { ...base, transport, outcome: { ok: true, response } };
  }

  private drawFault(knobs: EmulatorKnobs): FaultName | undefined {
    const draw = this.random();
    let cumulative = 0;
    for (const name of FAULT_NAMES) {
      cumulative += knobs.faultRates[name] ?? 0;
      if (draw < cumulative) return name;
    }
    return undefined;
  }

  private async render(request: ValidatedGenerateRequest, knobs: EmulatorKnobs, size?: { width: number; height: number }): Promise<Buffer> {
    // Validation guarantees the model offers this ratio and size.
    const pixels = size ?? outputPixels(request.model, request.aspectRatio, request.imageSize) ?? { width: 1024, height: 1024 };
    const seedMaterial = JSON.stringify({
      model: request.model.id,
      prompt: request.promptText,
      system: request.systemText,
      aspectRatio: request.aspectRatio,
      imageSize: request.imageSize,
      seed: request.seed ?? null,
      // By content, not by delivery: the same bytes inline or as one of the emulator's files
      // give the same image. URIs the emulator cannot follow count by their text.
      inputs: request.inputImages.flatMap((image) => (image.sha256 === undefined ? [] : [image.sha256])),
      files: request.inputImages.flatMap((image) => (image.sha256 === undefined && image.fileUri !== undefined ? [image.fileUri] : [])),
    });
    // Image-to-image copies the first input image the emulator holds the bytes of.
    const source = request.inputImages.find((image) => image.bytes !== undefined)?.bytes;
    return renderImage({
      width: pixels.width,
      height: pixels.height,
      seedMaterial,
      realistic: knobs.realisticPayload,
      label: stripTriggerPhrases(request.promptText),
      ...(source ? { source } : {}),
    });
  }

  /** The interim "thought image": a small draft of the composition, never the answer. */
  private renderThought(request: ValidatedGenerateRequest): Promise<Buffer> {
    return renderImage({ width: 256, height: 256, seedMaterial: `thought:${request.model.id}:${request.promptHash}` });
  }

  private responseId(request: ValidatedGenerateRequest): string {
    this.responseCounter += 1;
    return createHash('sha256').update(`${request.promptHash}:${this.responseCounter}`).digest('base64url').slice(0, 22);
  }
}

import { errorCodeOf } from '../errors/bunch-error.js';
import { classifyResponse } from '../gemini/classify-outcome.js';
import type { ModelCaller } from '../lanes/model-caller.js';
import type { WorkerMetrics } from './worker-metrics.js';

/**
 * The worker's ModelCaller, counted: each call's outcome, latency and whether it is in flight. The
 * outcome is the error code a failed call threw, the code an answer classifies as when it is not
 * usable (a refusal is E_SAFETY_BLOCKED, an answer without the image E_NO_IMAGE), or `ok`.
 */
export function instrumentModelCalls(caller: ModelCaller, metrics: WorkerMetrics): ModelCaller {
  return {
    async generateContent(model, request, options) {
      const protocol = options.protocol ?? 'gemini';
      const stop = metrics.callSeconds.startTimer();
      metrics.inFlight.inc();
      try {
        const answer = await caller.generateContent(model, request, options);
        const modalities = (request as { generationConfig?: { responseModalities?: string[] } }).generationConfig?.responseModalities;
        const unusable = classifyResponse(answer.response, { wantImage: modalities === undefined || modalities.includes('IMAGE') });
        const outcome = unusable ? unusable.code : 'ok';
        metrics.calls.inc({ outcome, protocol });
        stop({ outcome });
        return answer;
      } catch (error) {
        const outcome = errorCodeOf(error);
        metrics.calls.inc({ outcome, protocol });
        if (outcome === 'E_RATE_LIMITED') metrics.rateLimited.inc();
        stop({ outcome });
        throw error;
      } finally {
        metrics.inFlight.dec();
      }
    },
  };
}

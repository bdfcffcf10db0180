/**
 * Reads a Batch API operation (`GET /v1beta/batches/{id}`, list entries, the create answer):
 *   {name, metadata:{displayName, state, batchStats:{requestCount, successfulRequestCount,
 *    failedRequestCount, pendingRequestCount} (int64 strings, zeros omitted), output}, done?,
 *    response?:{responsesFile | inlinedResponses:{inlinedResponses:[...]}}, error?:{code, message}}
 * States arrive as `BATCH_STATE_*` on the REST wire and as `JOB_STATE_*` through the SDK and its
 * docs; both are accepted, and an unknown name is kept as is (treated as not finished).
 */
export type BatchState = 'UNSPECIFIED' | 'PENDING' | 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'CANCELLED' | 'EXPIRED';

const TERMINAL = new Set(['SUCCEEDED', 'FAILED', 'CANCELLED', 'EXPIRED']);

export interface InlinedResponse {
  key?: string;
  response?: unknown;
  error?: { code?: number; message?: string };
}

export interface UpstreamBatch {
  name: string;
  displayName?: string;
  /** Without prefix; unknown upstream names pass through unchanged. */
  state: BatchState | string;
  terminal: boolean;
  stats: { requests: number; succeeded: number; failed: number; pending: number };
  responsesFile?: string;
  inlinedResponses?: InlinedResponse[];
  error?: { code?: number; message?: string };
}

export function normalizeBatchState(raw: unknown): BatchState | string {
  if (typeof raw !== 'string' || raw === '') return 'UNSPECIFIED';
  return raw.replace(/^(BATCH_STATE_|JOB_STATE_)/, '');
}

export function isTerminalBatchState(state: string): boolean {
  return TERMINAL.has(state);
}

type Json = Record<string, unknown>;

function object(value: unknown): Json | undefined {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Json) : undefined;
}

function count(value: unknown): number {
  const n = typeof value === 'string' ? Number(value) : typeof value === 'number' ? value : 0;
  return Number.isFinite(n) ? n : 0;
}

export function readUpstreamBatch(operation: unknown): UpstreamBatch {
  const op = object(operation) ?? {};
  const metadata = object(op.metadata) ?? {};
  const state = normalizeBatchState(metadata.state);
  const stats = object(metadata.batchStats) ?? {};
  const name = typeof op.name === 'string' ? op.name : typeof metadata.name === 'string' ? metadata.name : '';
  const batch: UpstreamBatch = {
    name,
    state,
    // `done` is absent while pending/running; a terminal state without it still counts as finished.
    terminal: isTerminalBatchState(state) || (op.done === true && state !== 'PENDING' && state !== 'RUNNING'),
    stats: {
      requests: count(stats.requestCount),
      succeeded: count(stats.successfulRequestCount),
      failed: count(stats.failedRequestCount),
      pending: count(stats.pendingRequestCount),
    },
  };
  if (typeof metadata.displayName === 'string') batch.displayName = metadata.displayName;
  // The output sits in the top-level `response` and in `metadata.output`; either may be missing.
  const output = object(op.response) ?? object(metadata.output);
  if (output) {
    if (typeof output.responsesFile === 'string') batch.responsesFile = output.responsesFile;
    const inlined = object(output.inlinedResponses)?.inlinedResponses;
    if (Array.isArray(inlined)) {
      batch.inlinedResponses = inlined.map((entry) => {
        const item = object(entry) ?? {};
        const key = object(item.metadata)?.key;
        const result: InlinedResponse = {};
        if (typeof key === 'string') result.key = key;
        if (item.response !== undefined) result.response = item.response;
        const error = object(item.error);
        if (error) result.error = { code: count(error.code), ...(typeof error.message === 'string' ? { message: error.message } : {}) };
        return result;
      });
    }
  }
  const error = object(op.error);
  if (error) batch.error = { code: count(error.code), ...(typeof error.message === 'string' ? { message: error.message } : {}) };
  return batch;
}

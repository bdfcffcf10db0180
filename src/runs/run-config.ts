import type { RunPricing } from '../gemini/run-pricing.js';
/**
 * What every worker needs to know about a run, stored once in Redis when the run starts. It is a
 * plain JSON snapshot of the resolved job (so a worker never re-reads the job file, which may have
 * changed since) and contains no secrets: API keys and S3 credentials come from each worker's
 * environment.
 */
export interface RunConfig {
  runId: string;
  jobName: string;
  jobFile: string;
  model: string;
  lane: 'sync' | 'batch' | 'auto';
  /** Absolute output location: `s3://bucket/prefix` or `file:///abs/dir`. */
  outputUrl: string;
  wantImage: boolean;
  wantText: boolean;
  /** caption.schema: every caption must be JSON matching it. */
  captionSchema?: Record<string, unknown>;
  /** debug.thoughts: save thought summaries and interim images beside each item. */
  saveThoughts?: boolean;
  /** output.keepSteps: keep the image of every edit turn before the last. */
  keepSteps?: boolean;
  /** A gateway's non-native protocol; absent means Gemini-native. */
  protocol?: 'openai' | 'anthropic';
  sync: {
    timeoutMs: number;
    attempts: number;
    backoff: { initialMs: number; maxMs: number; jitter: number };
    requestsPerMinute?: number;
    globalConcurrency?: number;
    /** Most waiting jobs in the shared queue; planned items beyond it wait in storage (sync/planned-feed.ts). */
    queueWindow?: number;
  };
  /**
   * The job's system instruction, kept once per run instead of in every queued job; the sync
   * lane puts it back into each request just before the call.
   */
  systemInstruction?: { parts: { text: string }[] };
  batch: {
    deadlineMs: number;
    onUnfinished: 'sync' | 'batch' | 'fail';
    maxRequestsPerBatch: number;
    maxConcurrentBatches: number;
    pollIntervalMs: number;
  };
  pricing: RunPricing;
  budgetUsd?: number;
  /** The webhook told when the run ends; `secretEnv` is a variable name, the secret stays in the environment. */
  notify?: { webhook: { url: string; secretEnv: string; timeoutMs: number; attempts: number } };
  maxFailedRatio: number;
  /** report.gallery: false — no gallery at finalize (absent: write it). */
  gallery?: false;
  createdAt: string;
}

export type RunStatus =
  | 'planning'
  | 'running'
  | 'finalizing'
  | 'succeeded'
  | 'failed'
  | 'cancelled'
  | 'aborted';

export const TERMINAL_RUN_STATUSES: readonly RunStatus[] = ['succeeded', 'failed', 'cancelled', 'aborted'];

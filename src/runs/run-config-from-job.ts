import { pathToFileURL } from 'node:url';
import type { ResolvedJob } from '../spec/resolved-job.js';
import { systemInstructionOf } from '../plan/build-request.js';
import type { RunConfig } from './run-config.js';

/** Where a job's outputs, manifests and summaries go, as a URL (a directory as `file://`). */
export function outputUrlOf(job: Pick<ResolvedJob, 'output'>): string {
  return job.output.kind === 'file' ? pathToFileURL(job.output.dir).href : job.output.url;
}

/** Snapshot of a resolved job for its workers. Absolute output URL; no secrets exist in jobs. */
export function runConfigFromJob(job: ResolvedJob, runId: string, now: Date): RunConfig {
  const outputUrl = outputUrlOf(job);
  const config: RunConfig = {
    runId,
    jobName: job.name,
    jobFile: job.source.file,
    model: job.model,
    lane: job.lane,
    outputUrl,
    wantImage: job.generation.responseModalities.includes('IMAGE'),
    wantText: job.generation.responseModalities.includes('TEXT'),
    sync: {
      timeoutMs: job.sync.timeoutMs,
      attempts: job.sync.attempts,
      backoff: { ...job.sync.backoff },
      queueWindow: job.sync.queueWindow,
    },
    batch: { ...job.batch },
    pricing: structuredClone(job.pricing) as RunConfig['pricing'],
    maxFailedRatio: job.failureThreshold.maxFailedRatio,
    createdAt: now.toISOString(),
  };
  if (job.sync.requestsPerMinute !== undefined) config.sync.requestsPerMinute = job.sync.requestsPerMinute;
  if (job.sync.globalConcurrency !== undefined) config.sync.globalConcurrency = job.sync.globalConcurrency;
  if (job.caption) config.captionSchema = structuredClone(job.caption.schema) as Record<string, unknown>;
  if (job.debug.thoughts) config.saveThoughts = true;
  if (job.output.keepSteps) config.keepSteps = true;
  if (job.protocol !== 'gemini') config.protocol = job.protocol;
  if (job.budget) config.budgetUsd = job.budget.maxUsd;
  if (job.notify) config.notify = { webhook: { ...job.notify.webhook } };
  if (!job.report.gallery) config.gallery = false;
  const system = systemInstructionOf(job);
  if (system) config.systemInstruction = system;
  return config;
}

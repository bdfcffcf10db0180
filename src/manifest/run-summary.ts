import type { ErrorCode } from '../errors/error-code.js';
import type { ItemStatus } from '../runs/item-record.js';
import type { RunStatus } from '../runs/run-config.js';
import type { RunMeta } from '../runs/run-store.js';

/** `runs/<runId>/summary.json`: what an operator or a cron wrapper reads to judge a run. */
export interface RunSummary {
  schemaVersion: 1;
  runId: string;
  jobName: string;
  model: string;
  status: RunStatus;
  stopReason?: string;
  items: number;
  counts: Record<ItemStatus, number>;
  rejectedRows: number;
  /** Rejected rows by code: E_CATALOG_ROW (the row itself), E_REFERENCE (its reference images). */
  rejectedByCode?: Record<string, number>;
  lanes: Record<string, number>;
  errors: Partial<Record<ErrorCode, number>>;
  failedRatio: number;
  maxFailedRatio: number;
  tokens: { prompt: number; output: number };
  costUsd: number;
  /** What the run may have cost at most: `costUsd` plus calls whose outcome is unknown (timeouts, cut-off answers). */
  costUpperBoundUsd: number;
  startedAt: string;
  finishedAt: string;
  wallTimeMs: number;
  /** Items that reached a terminal state per second of wall time. */
  itemsPerSecond: number;
  manifest: string;
  /** `bunch retry`: the run whose failed items this run holds. */
  parentRunId?: string;
  /** Catalog drift: keys in the job's last succeeded run (`comparedWithRun`) that this catalog no longer has. */
  removedKeys?: number;
  comparedWithRun?: string;
  /**
   * Why drift was not reported this run: rejected rows without a readable key (a malformed CSV
   * record) might be listed products, and would show as removed — with their images to take down.
   */
  driftNotReported?: string;
  /** `runs/<runId>/removed.jsonl` when `removedKeys` > 0: each key and the outputs it had. */
  removed?: string;
}

/** The verdict of a run: a cron job exits non-zero unless this is `succeeded`. */
export function judgeRun(meta: RunMeta): RunStatus {
  if (meta.stop === 'E_CANCELLED') return 'cancelled';
  if (meta.stop === 'E_BUDGET') return 'failed';
  // A rejected API key, or planning that broke off (catalog unreadable, storage or Redis down).
  if (meta.stop) return 'aborted';
  const total = meta.total ?? meta.terminal;
  // Every row rejected (a placeholder typo, a wrong key column, a broken export): nothing was
  // made, and a nightly cron must not read that as success.
  if (total === 0 && meta.rejected > 0) return 'failed';
  const failed = meta.counts.failed + meta.counts.cancelled;
  const ratio = total === 0 ? 0 : failed / total;
  return ratio <= meta.config.maxFailedRatio ? 'succeeded' : 'failed';
}

export function buildRunSummary(meta: RunMeta, status: RunStatus, finishedAt: Date, manifestUri: string): RunSummary {
  const total = meta.total ?? meta.terminal;
  const wallTimeMs = Math.max(0, finishedAt.getTime() - Date.parse(meta.startedAt));
  const summary: RunSummary = {
    schemaVersion: 1,
    runId: meta.config.runId,
    jobName: meta.config.jobName,
    model: meta.config.model,
    status,
    items: total,
    counts: meta.counts,
    rejectedRows: meta.rejected,
    lanes: meta.lanes,
    errors: meta.errors,
    failedRatio: total === 0 ? 0 : round((meta.counts.failed + meta.counts.cancelled) / total, 6),
    maxFailedRatio: meta.config.maxFailedRatio,
    tokens: { prompt: meta.promptTokens, output: meta.outputTokens },
    costUsd: round(meta.costUsd, 6),
    costUpperBoundUsd: round(meta.costUsd + meta.uncertainUsd, 6),
    startedAt: meta.startedAt,
    finishedAt: finishedAt.toISOString(),
    wallTimeMs,
    itemsPerSecond: wallTimeMs === 0 ? 0 : round(meta.terminal / (wallTimeMs / 1000), 3),
    manifest: manifestUri,
  };
  if (meta.stop) summary.stopReason = meta.stop;
  if (meta.extra.parentRunId) summary.parentRunId = meta.extra.parentRunId;
  return summary;
}

function round(value: number, digits: number): number {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}

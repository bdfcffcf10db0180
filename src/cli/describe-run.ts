import { shardStatesOf, type BatchShardState } from '../lanes/batch/shard-state.js';
import type { RunMeta } from '../runs/run-store.js';
import { planningNote } from '../runs/planning-note.js';

/** The human view of a run for `bunch status` and `bunch run --wait`. */
export function describeRun(meta: RunMeta, now: Date = new Date()): string {
  const total = meta.total;
  const elapsedMs = Math.max(1, (meta.finishedAt ? Date.parse(meta.finishedAt) : now.getTime()) - Date.parse(meta.startedAt));
  const rate = meta.terminal / (elapsedMs / 1000);
  const lines = [
    `run ${meta.config.runId} (${meta.config.jobName}, ${meta.config.model}): ${meta.status}${meta.stop ? ` — stopped: ${meta.stop}` : ''}`,
    `  progress   ${meta.terminal}/${total ?? '?'}${planningNote(meta, now)}` +
      `   succeeded ${meta.counts.succeeded}  failed ${meta.counts.failed}  skipped ${meta.counts.skipped}  cancelled ${meta.counts.cancelled}` +
      (meta.rejected ? `  rejected rows ${meta.rejected}` : ''),
    `  throughput ${rate.toFixed(2)} items/s over ${formatDuration(elapsedMs)}` + eta(meta, rate),
    `  cost       $${meta.costUsd.toFixed(2)}` +
      (meta.uncertainUsd > 0 ? ` (at most $${(meta.costUsd + meta.uncertainUsd).toFixed(2)}: calls with unknown outcome)` : '') +
      `   tokens in ${meta.promptTokens} out ${meta.outputTokens}`,
  ];
  const errors = Object.entries(meta.errors).sort((a, b) => (b[1] ?? 0) - (a[1] ?? 0)).slice(0, 5);
  if (errors.length > 0) lines.push(`  top errors ${errors.map(([code, n]) => `${code} ×${n}`).join(', ')}`);
  const retries = Object.entries(meta.retries ?? {}).sort((a, b) => (b[1] ?? 0) - (a[1] ?? 0));
  if (retries.length > 0 || meta.pauses) {
    const total = retries.reduce((sum, [, n]) => sum + (n ?? 0), 0);
    lines.push(
      `  retries    ${total}${retries.length ? ` (${retries.slice(0, 5).map(([code, n]) => `${code} ×${n}`).join(', ')})` : ''}` +
        (meta.pauses ? `; queue paused by a 429 ×${meta.pauses}` : ''),
    );
  }
  const lanes = Object.entries(meta.lanes).filter(([, n]) => n > 0);
  if (lanes.length > 1) lines.push(`  lanes      ${lanes.map(([lane, n]) => `${lane} ${n}`).join(', ')}`);
  if (meta.extra.parentRunId) lines.push(`  retry of   ${meta.extra.parentRunId}`);
  if (meta.extra.lane) lines.push(`  lane       auto → ${meta.extra.lane}`);
  if (meta.feed && meta.feed.next < meta.feed.chunks) {
    lines.push(`  feed       ${meta.feed.next}/${meta.feed.chunks} chunks of planned items queued (the rest wait in storage)`);
  }
  const quotaUntil = meta.extra.quotaUntil ? Date.parse(meta.extra.quotaUntil) : NaN;
  if (!meta.finishedAt && quotaUntil > now.getTime()) lines.push(`  quota      exhausted until ${clockTime(new Date(quotaUntil), now)} UTC: items wait, no calls`);
  for (const shard of shardStatesOf(meta)) lines.push(describeShard(shard));
  lines.push(`  output     ${meta.config.outputUrl}`);
  return lines.join('\n');
}

/** One batch of the batch lane: shard, upstream name, state, phase, and what became of its items. */
function describeShard(shard: BatchShardState): string {
  const counts = shard.outcome
    ? Object.entries(shard.outcome)
        .filter(([, n]) => n > 0)
        .map(([what, n]) => `${n} ${what}`)
        .join(', ')
    : shard.stats
      ? `${shard.stats.succeeded} served, ${shard.stats.failed} failed, ${shard.stats.pending} pending upstream`
      : '';
  const cut = shard.cutShort ? ` (cut short: ${shard.cutShort})` : '';
  return `  batch ${shard.shard}  ${shard.upstream ?? '-'}  ${shard.upstreamState ?? '-'}  ${shard.phase}  ${shard.items} items${counts ? `: ${counts}` : ''}${cut}`;
}

function eta(meta: RunMeta, rate: number): string {
  if (meta.finishedAt || meta.total === undefined || rate <= 0) return '';
  const remaining = meta.total - meta.terminal;
  return remaining > 0 ? `, ETA ${formatDuration((remaining / rate) * 1000)}` : '';
}

export function formatDuration(ms: number): string {
  const seconds = Math.round(ms / 1000);
  if (seconds < 90) return `${seconds}s`;
  const minutes = Math.round(seconds / 60);
  if (minutes < 90) return `${minutes}m`;
  return `${Math.floor(minutes / 60)}h${String(minutes % 60).padStart(2, '0')}m`;
}

/** HH:MM in UTC (with the date when it is not today's). */
function clockTime(at: Date, now: Date = new Date()): string {
  const time = at.toISOString().slice(11, 16);
  return at.toISOString().slice(0, 10) === now.toISOString().slice(0, 10) ? time : `${at.toISOString().slice(0, 10)} ${time}`;
}

/** One line for logs and pipes: time, status, progress, rate, ETA, cost. */
export function describeRunLine(meta: RunMeta, now: Date = new Date()): string {
  const elapsedMs = Math.max(1, (meta.finishedAt ? Date.parse(meta.finishedAt) : now.getTime()) - Date.parse(meta.startedAt));
  const rate = meta.terminal / (elapsedMs / 1000);
  const retries = Object.values(meta.retries ?? {}).reduce((sum, n) => sum + (n ?? 0), 0);
  return (
    `${now.toISOString().slice(11, 19)} ${meta.config.runId} ${meta.status} ${meta.terminal}/${meta.total ?? '?'}` +
    ` ok ${meta.counts.succeeded} failed ${meta.counts.failed} skipped ${meta.counts.skipped} cancelled ${meta.counts.cancelled}` +
    ` retries ${retries} ${rate.toFixed(2)}/s${eta(meta, rate)} $${meta.costUsd.toFixed(2)}`
  );
}


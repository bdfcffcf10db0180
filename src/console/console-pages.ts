import { shardStatesOf } from '../lanes/batch/shard-state.js';
import type { ScheduleInfo } from '../schedules/schedule-queue.js';
import { plannerGone, type RunMeta } from '../runs/run-store.js';
import { planningNote } from '../runs/planning-note.js';
import { TERMINAL_RUN_STATUSES } from '../runs/run-config.js';
import { throughputSvg, type ThroughputPoint } from './throughput-chart.js';

/**
 * The console's own pages, rendered on the server from the same run meta `bunch status --json`
 * prints: plain HTML with inline styles, no scripts except a reload timer on pages of running
 * runs, every value escaped. The run list, a run page (counts, progress, throughput chart, cost,
 * top errors, retries, batches, links to the gallery and to bull-board, cancel and retry
 * buttons), and the login form.
 */
export function escapeHtml(value: unknown): string {
  return String(value).replace(/[&<>"']/g, (character) => `&#${character.charCodeAt(0)};`);
}

function page(title: string, body: string, options: { refreshSeconds?: number } = {}): string {
  const refresh = options.refreshSeconds ? `<meta http-equiv="refresh" content="${options.refreshSeconds}">` : '';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">${refresh}
<title>${escapeHtml(title)} · bunch</title>
<style>${STYLE}</style></head>
<body><header><a class="brand" href="/">bunch</a> <a href="/">runs</a> <a href="/queues">queues</a> <a href="/metrics">metrics</a></header>
<main>${body}</main></body></html>
`;
}

const STYLE = `
body { margin: 0; font: 14px/1.45 system-ui, sans-serif; color: #222; background: #f6f6f4; }
header { background: #fff; border-bottom: 1px solid #ddd; padding: 10px 16px; display: flex; gap: 16px; align-items: baseline; }
header a { color: #1b6ec2; text-decoration: none; } .brand { font-weight: 700; color: #222 !important; }
main { padding: 16px; max-width: 1100px; }
table { border-collapse: collapse; background: #fff; width: 100%; }
th, td { text-align: left; padding: 6px 10px; border-bottom: 1px solid #eee; vertical-align: top; }
th { background: #fafafa; font-weight: 600; }
.num { text-align: right; font-variant-numeric: tabular-nums; }
.status { border-radius: 3px; padding: 0 5px; color: #fff; font-size: 12px; background: #6b6b6b; }
.status.succeeded { background: #1b7f3b; } .status.failed, .status.aborted { background: #b3261e; }
.status.running, .status.planning, .status.finalizing { background: #1b6ec2; }
.muted { color: #777; } .bar { height: 10px; background: #e4e4e4; border-radius: 5px; overflow: hidden; max-width: 420px; }
.bar span { display: block; height: 100%; background: #1b7f3b; }
section { background: #fff; border: 1px solid #ddd; border-radius: 6px; padding: 12px 16px; margin-bottom: 16px; }
h1 { font-size: 20px; } h2 { font-size: 16px; margin-top: 0; }
form.inline { display: inline; } button { font: inherit; padding: 4px 10px; cursor: pointer; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: 4px 16px; margin: 0; } dt { color: #666; }
`;

function statusBadge(status: string): string {
  return `<span class="status ${escapeHtml(status)}">${escapeHtml(status)}</span>`;
}

function progress(meta: RunMeta): string {
  const total = meta.total ?? 0;
  const share = total > 0 ? Math.min(100, (meta.terminal / total) * 100) : 0;
  return `<div class="bar" title="${meta.terminal} of ${total}"><span style="width:${share.toFixed(1)}%"></span></div>`;
}

export function runsPage(metas: RunMeta[], schedules: ScheduleInfo[]): string {
  const rows = metas
    .map(
      (meta) => `<tr>
<td><a href="/runs/${encodeURIComponent(meta.config.runId)}">${escapeHtml(meta.config.runId)}</a><div class="muted">${escapeHtml(meta.config.jobName)}</div></td>
<td>${statusBadge(meta.status)}</td>
<td>${progress(meta)}<span class="muted">${meta.terminal}/${meta.total ?? '?'}</span></td>
<td class="num">${meta.counts.succeeded}</td><td class="num">${meta.counts.failed}</td><td class="num">${meta.counts.skipped}</td>
<td class="num">$${meta.costUsd.toFixed(2)}</td>
<td class="muted">${escapeHtml(meta.startedAt)}</td></tr>`,
    )
    .join('\n');
  const scheduleRows = schedules
    .map(
      (schedule) => `<tr><td>${escapeHtml(schedule.name)}</td><td>${escapeHtml(schedule.cron ?? `every ${Math.round((schedule.everyMs ?? 0) / 1000)} s`)}${schedule.tz ? ` (${escapeHtml(schedule.tz)})` : ''}</td>
<td>${escapeHtml(schedule.jobSource)}</td><td>${escapeHtml(schedule.overlap)}</td><td class="muted">${escapeHtml(schedule.next ?? '')}</td></tr>`,
    )
    .join('\n');
  const active = metas.some((meta) => !TERMINAL_RUN_STATUSES.includes(meta.status) && !plannerGone(meta, Date.now()));
  return page(
    'runs',
    `<h1>Runs</h1>
${metas.length === 0 ? '<p class="muted">No runs yet.</p>' : `<table id="runs"><thead><tr><th>run</th><th>status</th><th>progress</th><th class="num">succeeded</th><th class="num">failed</th><th class="num">skipped</th><th class="num">cost</th><th>started</th></tr></thead><tbody>
${rows}
</tbody></table>`}
<h2 style="margin-top:24px">Schedules</h2>
${schedules.length === 0 ? '<p class="muted">No schedules.</p>' : `<table id="schedules"><thead><tr><th>name</th><th>when</th><th>job</th><th>overlap</th><th>next</th></tr></thead><tbody>${scheduleRows}</tbody></table>`}`,
    active ? { refreshSeconds: 5 } : {},
  );
}

export function runPage(meta: RunMeta, points: ThroughputPoint[], options: { hasGallery: boolean; message?: string }): string {
  const id = meta.config.runId;
  const link = encodeURIComponent(id);
  const finished = TERMINAL_RUN_STATUSES.includes(meta.status);
  const errors = Object.entries(meta.errors)
    .sort((a, b) => (b[1] ?? 0) - (a[1] ?? 0))
    .slice(0, 10)
    .map(([code, count]) => `<tr><td>${escapeHtml(code)}</td><td class="num">${count}</td></tr>`)
    .join('');
  const retries = Object.entries(meta.retries ?? {})
    .sort((a, b) => (b[1] ?? 0) - (a[1] ?? 0))
    .map(([code, count]) => `${escapeHtml(code)} ×${count}`)
    .join(', ');
  const shards = shardStatesOf(meta)
    .map(
      (shard) => `<tr><td>${escapeHtml(shard.shard)}</td><td>${escapeHtml(shard.upstream ?? '-')}</td><td>${escapeHtml(shard.upstreamState ?? '-')}</td><td>${escapeHtml(shard.phase)}</td><td class="num">${shard.items}</td></tr>`,
    )
    .join('');
  const elapsedMs = Math.max(1, (meta.finishedAt ? Date.parse(meta.finishedAt) : Date.now()) - Date.parse(meta.startedAt));
  const canRetry = finished && meta.counts.failed + meta.counts.cancelled > 0;
  const actions = [
    !finished ? `<form class="inline" method="post" action="/runs/${link}/cancel"><button id="cancel" type="submit">Cancel run</button></form>` : '',
    canRetry ? `<form class="inline" method="post" action="/runs/${link}/retry"><button id="retry" type="submit">Retry failed items</button></form>` : '',
  ].join(' ');
  return page(
    id,
    `<h1>${escapeHtml(meta.config.jobName)} <span class="muted">${escapeHtml(id)}</span> ${statusBadge(meta.status)}</h1>
${options.message ? `<p id="message">${escapeHtml(options.message)}</p>` : ''}
<section><h2>Progress</h2>
${progress(meta)}
<dl id="facts">
<dt>items</dt><dd>${meta.terminal} of ${meta.total ?? '?'}${escapeHtml(planningNote(meta, new Date()))}</dd>
<dt>succeeded</dt><dd>${meta.counts.succeeded}</dd><dt>failed</dt><dd>${meta.counts.failed}</dd>
<dt>skipped</dt><dd>${meta.counts.skipped}</dd><dt>cancelled</dt><dd>${meta.counts.cancelled}</dd>
${meta.rejected ? `<dt>rejected rows</dt><dd>${meta.rejected}</dd>` : ''}
<dt>throughput</dt><dd>${(meta.terminal / (elapsedMs / 1000)).toFixed(2)} items/s</dd>
<dt>cost</dt><dd>$${meta.costUsd.toFixed(4)}${meta.uncertainUsd > 0 ? ` (at most $${(meta.costUsd + meta.uncertainUsd).toFixed(4)})` : ''}</dd>
<dt>tokens</dt><dd>in ${meta.promptTokens}, out ${meta.outputTokens}</dd>
${retries ? `<dt>retries</dt><dd>${retries}${meta.pauses ? `; queue paused by a 429 ×${meta.pauses}` : ''}</dd>` : ''}
<dt>model</dt><dd>${escapeHtml(meta.config.model)}</dd>
<dt>output</dt><dd id="output">${escapeHtml(meta.config.outputUrl)}</dd>
${meta.extra.parentRunId ? `<dt>retry of</dt><dd><a href="/runs/${encodeURIComponent(meta.extra.parentRunId)}">${escapeHtml(meta.extra.parentRunId)}</a></dd>` : ''}
${meta.extra.retryLeftOut ? `<dt>left out</dt><dd id="left-out">${escapeHtml(meta.extra.retryLeftOut)}</dd>` : ''}
${meta.stop ? `<dt>stopped</dt><dd>${escapeHtml(meta.stop)}</dd>` : ''}
</dl>
<p>${actions} ${options.hasGallery ? `<a id="gallery" href="/runs/${link}/files/runs/${link}/gallery/index.html">Open the gallery</a>` : ''} <a href="/queues">Queues (bull-board)</a></p>
</section>
<section><h2>Throughput</h2>${throughputSvg(points, meta.total)}</section>
<section><h2>Top errors</h2>${errors ? `<table id="errors"><tbody>${errors}</tbody></table>` : '<p class="muted">None.</p>'}</section>
${shards ? `<section><h2>Batches</h2><table id="batches"><thead><tr><th>shard</th><th>upstream</th><th>state</th><th>phase</th><th class="num">items</th></tr></thead><tbody>${shards}</tbody></table></section>` : ''}`,
    // A run whose planner is gone never finishes by itself: nothing to refresh for.
    finished || plannerGone(meta, Date.now()) ? {} : { refreshSeconds: 3 },
  );
}

/** A page Redis or the output store did not answer in time (respond-within.ts): it reloads itself. */
export function unansweredPage(message: string, refreshSeconds: number): string {
  return page('no answer', `<h1>No answer</h1>\n<p id="message">${escapeHtml(message)}</p>`, { refreshSeconds });
}

export function loginPage(next: string, failed: boolean): string {
  return page(
    'log in',
    `<h1>Console token</h1>
${failed ? '<p id="message">That token is not the console\'s.</p>' : ''}
<form method="post" action="/login"><input type="hidden" name="next" value="${escapeHtml(next)}">
<label>Token <input name="token" type="password" autocomplete="current-password" autofocus></label> <button type="submit">Log in</button></form>`,
  );
}

/**
 * The gallery's one HTML file: styles and script inline, no fonts, no external anything. It loads
 * the tiles from `data/page-*.js` one script at a time (script tags work from disk and from a
 * bucket alike, where fetch() of a local file would not), then shows them as cards — the
 * variants of one catalog row side by side — a page of cards at a time, with filters by status,
 * variant and error code and a search by key. Every catalog-supplied text goes in through
 * textContent, never as markup. Reference sources are listed as text; the page loads nothing but
 * its own files.
 */
export interface GalleryFacts {
  runId: string;
  jobName: string;
  status: string;
  pages: number;
  total: number;
  counts: Record<string, number>;
  costUsd: number;
  variants: string[];
  errorCodes: string[];
  generatedAt: string;
}

/** JSON safe inside a <script> element. */
function scriptJson(value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (character) => `&#${character.charCodeAt(0)};`);
}

export function galleryHtml(facts: GalleryFacts): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>${escapeHtml(`${facts.jobName} · ${facts.runId} · bunch gallery`)}</title>
<style>${STYLE}</style>
</head>
<body>
<header>
  <h1><span id="job"></span> <small id="run"></small></h1>
  <p id="facts"></p>
  <form id="filters" onsubmit="return false">
    <label>Status <select id="status"><option value="">all</option></select></label>
    <label>Variant <select id="variant"><option value="">all</option></select></label>
    <label>Error <select id="code"><option value="">all</option></select></label>
    <label>Key <input id="search" type="search" placeholder="SKU…" autocomplete="off"></label>
    <span id="shown" aria-live="polite"></span>
  </form>
</header>
<main id="grid" aria-label="items"></main>
<nav id="pager"><button id="prev" type="button">‹ Previous</button> <span id="where"></span> <button id="next" type="button">Next ›</button></nav>
<dialog id="detail"><button id="close" type="button" aria-label="close">×</button><div id="detail-body"></div></dialog>
<script>window.GALLERY = ${scriptJson(facts)};</script>
<script>${SCRIPT}</script>
</body>
</html>
`;
}

const STYLE = `
:root { color-scheme: light; --ok: #1b7f3b; --bad: #b3261e; --skip: #6b6b6b; --line: #ddd; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.4 system-ui, sans-serif; background: #f6f6f4; color: #222; }
header { position: sticky; top: 0; background: #fff; border-bottom: 1px solid var(--line); padding: 10px 16px; z-index: 1; }
h1 { font-size: 18px; margin: 0; } h1 small { color: #777; font-weight: normal; }
#facts { margin: 4px 0 8px; color: #444; }
form { display: flex; flex-wrap: wrap; gap: 12px; align-items: center; }
select, input { font: inherit; padding: 2px 4px; }
#shown { color: #555; }
main { display: flex; flex-wrap: wrap; gap: 12px; padding: 16px; }
.card { background: #fff; border: 1px solid var(--line); border-radius: 6px; padding: 8px; display: flex; flex-direction: column; gap: 6px; }
.card h2 { font-size: 13px; margin: 0; font-weight: 600; word-break: break-all; }
.variants { display: flex; gap: 8px; }
.tile { width: 168px; cursor: pointer; border: 0; background: none; padding: 0; text-align: left; font: inherit; color: inherit; }
.tile .pic { width: 168px; height: 168px; background: #eee; display: flex; align-items: center; justify-content: center; overflow: hidden; border-radius: 4px; }
.tile img { max-width: 100%; max-height: 100%; }
.tile .err { padding: 8px; color: var(--bad); font-size: 12px; overflow: hidden; height: 100%; width: 100%; background: #fdecea; }
.tile .meta { font-size: 12px; color: #555; display: flex; gap: 6px; flex-wrap: wrap; margin-top: 4px; }
.tile .caption { font-size: 12px; color: #333; max-height: 3.9em; overflow: hidden; }
.badge { border-radius: 3px; padding: 0 4px; color: #fff; font-size: 11px; }
.badge.succeeded { background: var(--ok); } .badge.failed, .badge.rejected { background: var(--bad); }
.badge.skipped, .badge.cancelled { background: var(--skip); }
nav { padding: 0 16px 24px; display: flex; gap: 12px; align-items: center; }
dialog { max-width: 720px; width: 90vw; border: 1px solid var(--line); border-radius: 6px; }
dialog img { max-width: 100%; }
dialog dl { display: grid; grid-template-columns: max-content 1fr; gap: 4px 12px; }
dialog dt { color: #666; } dialog dd { margin: 0; word-break: break-word; white-space: pre-wrap; }
#close { float: right; font-size: 18px; border: 0; background: none; cursor: pointer; }
`;

const SCRIPT = `
(function () {
  'use strict';
  var G = window.GALLERY, tiles = [], sorted = true, loaded = 0, page = 0, PER_PAGE = 100;
  var $ = function (id) { return document.getElementById(id); };
  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }
  function money(value) { return '$' + (Math.round(value * 10000) / 10000).toFixed(4); }
  $('job').textContent = G.jobName;
  $('run').textContent = G.runId;
  // One fixed order: the manifest is in completion order, so the counts' own key order is not.
  var STATUSES = ['succeeded', 'failed', 'skipped', 'cancelled', 'rejected'];
  var counts = STATUSES.filter(function (k) { return (G.counts[k] || 0) > 0; })
    .map(function (k) { return G.counts[k] + ' ' + k; }).join(' · ');
  $('facts').textContent = G.total + ' items · ' + counts + ' · ' + money(G.costUsd) + ' · run ' + G.status;
  function options(select, values) {
    values.forEach(function (value) { var option = el('option', '', value); option.value = value; select.appendChild(option); });
  }
  options($('status'), STATUSES.filter(function (s) { return (G.counts[s] || 0) > 0; }));
  options($('variant'), G.variants);
  options($('code'), G.errorCodes);

  function matches(tile) {
    var status = $('status').value, variant = $('variant').value, code = $('code').value;
    var search = $('search').value.trim().toLowerCase();
    return (!status || tile.status === status) && (!variant || tile.variant === variant) &&
      (!code || tile.errorCode === code) && (!search || tile.key.toLowerCase().indexOf(search) >= 0);
  }
  // Cards: the tiles of one catalog row (its variants), side by side, in catalog order (the
  // manifest lists items as they ended).
  function cards() {
    if (!sorted) {
      tiles.sort(function (a, b) { return a.rowNumber - b.rowNumber || a.index - b.index; });
      sorted = true;
    }
    var result = [], last = null;
    tiles.forEach(function (tile) {
      if (!matches(tile)) return;
      if (last && last.key === tile.key && last.rowNumber === tile.rowNumber) last.tiles.push(tile);
      else { last = { key: tile.key, rowNumber: tile.rowNumber, tiles: [tile] }; result.push(last); }
    });
    return result;
  }
  function tileNode(tile) {
    var node = el('button', 'tile');
    node.type = 'button';
    node.dataset.status = tile.status;
    node.dataset.index = String(tile.index);
    var pic = el('div', 'pic');
    if (tile.thumb) {
      var img = el('img');
      img.loading = 'lazy';
      img.alt = tile.key + ' ' + tile.variant;
      img.src = tile.thumb;
      pic.appendChild(img);
    } else {
      pic.appendChild(el('div', 'err', (tile.errorCode || tile.status) + (tile.errorMessage ? ': ' + tile.errorMessage : '')));
    }
    node.appendChild(pic);
    var meta = el('div', 'meta');
    meta.appendChild(el('span', 'badge ' + tile.status, tile.status));
    if (tile.variant) meta.appendChild(el('span', '', tile.variant));
    meta.appendChild(el('span', '', money(tile.costUsd)));
    meta.appendChild(el('span', '', tile.attempts + (tile.attempts === 1 ? ' call' : ' calls')));
    node.appendChild(meta);
    if (tile.caption) node.appendChild(el('div', 'caption', tile.caption));
    node.addEventListener('click', function () { show(tile); });
    return node;
  }
  function render() {
    var all = cards(), pages = Math.max(1, Math.ceil(all.length / PER_PAGE));
    if (page >= pages) page = pages - 1;
    var grid = $('grid');
    grid.textContent = '';
    all.slice(page * PER_PAGE, (page + 1) * PER_PAGE).forEach(function (card) {
      var node = el('section', 'card');
      node.appendChild(el('h2', '', card.key));
      var row = el('div', 'variants');
      card.tiles.forEach(function (tile) { row.appendChild(tileNode(tile)); });
      node.appendChild(row);
      grid.appendChild(node);
    });
    var shown = all.reduce(function (sum, card) { return sum + card.tiles.length; }, 0);
    $('shown').textContent = shown + ' shown' + (loaded < G.pages ? ' (loading ' + tiles.length + ' of ' + G.total + ')' : '');
    $('where').textContent = 'page ' + (page + 1) + ' of ' + pages;
    $('prev').disabled = page === 0;
    $('next').disabled = page + 1 >= pages;
  }
  function show(tile) {
    var body = $('detail-body');
    body.textContent = '';
    body.appendChild(el('h2', '', tile.key + (tile.variant ? ' · ' + tile.variant : '')));
    if (tile.image && tile.thumb) {
      var link = el('a');
      link.href = tile.image;
      link.target = '_blank';
      link.rel = 'noopener';
      var img = el('img');
      img.src = tile.thumb;
      img.alt = tile.key;
      link.appendChild(img);
      body.appendChild(link);
    }
    var list = el('dl');
    function row(name, value) { if (value === undefined || value === null || value === '') return; list.appendChild(el('dt', '', name)); list.appendChild(el('dd', '', value)); }
    row('status', tile.status + (tile.reused ? ' (output reused)' : ''));
    row('prompt', tile.prompt);
    row('row', tile.rowNumber);
    row('model', tile.model);
    row('lane', tile.lane);
    row('cost', money(tile.costUsd));
    row('calls', tile.attempts);
    row('size', tile.width ? tile.width + '×' + tile.height : undefined);
    row('caption', tile.caption);
    row('error', tile.errorCode ? tile.errorCode + (tile.errorMessage ? ': ' + tile.errorMessage : '') : undefined);
    row('finish reason', tile.finishReason);
    row('warnings', tile.warnings && tile.warnings.join('\\n'));
    row('edit steps', tile.steps);
    row('searches', tile.grounding && tile.grounding.join('\\n'));
    row('references', tile.references && tile.references.map(function (r) { return (r.role ? r.role + ': ' : '') + r.source; }).join('\\n'));
    body.appendChild(list);
    $('detail').showModal();
  }
  $('close').addEventListener('click', function () { $('detail').close(); });
  ['status', 'variant', 'code'].forEach(function (id) { $(id).addEventListener('change', function () { page = 0; render(); }); });
  $('search').addEventListener('input', function () { page = 0; render(); });
  $('prev').addEventListener('click', function () { if (page > 0) { page -= 1; render(); window.scrollTo(0, 0); } });
  $('next').addEventListener('click', function () { page += 1; render(); window.scrollTo(0, 0); });

  // Data pages arrive one script at a time; the first page shows as soon as it is in.
  window.bunchGallery = { add: function (number, more) { Array.prototype.push.apply(tiles, more); sorted = false; } };
  function next() {
    if (loaded >= G.pages) { document.body.dataset.loaded = 'true'; render(); return; }
    var script = document.createElement('script');
    script.src = 'data/page-' + String(loaded + 1).padStart(5, '0') + '.js';
    script.onload = function () { loaded += 1; if (loaded === 1 || loaded === G.pages || loaded % 10 === 0) render(); next(); };
    script.onerror = function () { $('shown').textContent = 'could not load ' + script.src; };
    document.body.appendChild(script);
  }
  render();
  next();
})();
`;

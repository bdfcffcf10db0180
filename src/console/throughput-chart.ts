/**
 * Items finished over time as an inline SVG (no script, no library): a polyline of the cumulative
 * count against time, with the axes' end values as text. Points come from the run's manifest once
 * it is finalized, or from the console's own sampling while it runs.
 */
export interface ThroughputPoint {
  /** Milliseconds since epoch. */
  at: number;
  /** Items terminal by then. */
  done: number;
}

const WIDTH = 640;
const HEIGHT = 180;
const PAD = 36;

export function throughputSvg(points: readonly ThroughputPoint[], total: number | undefined): string {
  if (points.length < 2) return '<p class="muted">Not enough data for a chart yet.</p>';
  const first = points[0]!;
  const last = points[points.length - 1]!;
  const span = Math.max(1, last.at - first.at);
  const top = Math.max(1, total ?? 0, ...points.map((point) => point.done));
  const x = (at: number) => PAD + ((at - first.at) / span) * (WIDTH - 2 * PAD);
  const y = (done: number) => HEIGHT - PAD + (-(done / top) * (HEIGHT - 2 * PAD));
  const line = points.map((point) => `${x(point.at).toFixed(1)},${y(point.done).toFixed(1)}`).join(' ');
  const seconds = span / 1000;
  const rate = (last.done - first.done) / Math.max(seconds, 0.001);
  return `<svg class="chart" role="img" aria-label="items finished over time" viewBox="0 0 ${WIDTH} ${HEIGHT}" width="${WIDTH}" height="${HEIGHT}">
<line x1="${PAD}" y1="${HEIGHT - PAD}" x2="${WIDTH - PAD}" y2="${HEIGHT - PAD}" stroke="#999"/>
<line x1="${PAD}" y1="${PAD}" x2="${PAD}" y2="${HEIGHT - PAD}" stroke="#999"/>
<polyline fill="none" stroke="#1b6ec2" stroke-width="2" points="${line}"/>
<text x="${PAD - 4}" y="${PAD + 4}" text-anchor="end" font-size="11">${top}</text>
<text x="${PAD - 4}" y="${HEIGHT - PAD}" text-anchor="end" font-size="11">0</text>
<text x="${WIDTH - PAD}" y="${HEIGHT - PAD + 16}" text-anchor="end" font-size="11">${formatSpan(seconds)}</text>
<text x="${PAD}" y="${HEIGHT - 6}" font-size="11">${rate.toFixed(2)} items/s on average</text>
</svg>`;
}

function formatSpan(seconds: number): string {
  if (seconds < 10) return `${seconds.toFixed(1)} s`;
  if (seconds < 120) return `${Math.round(seconds)} s`;
  if (seconds < 7200) return `${Math.round(seconds / 60)} min`;
  return `${(seconds / 3600).toFixed(1)} h`;
}

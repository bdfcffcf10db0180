/**
 * Rows of one product share its photos. In a Shopify-style export a product's rows come together
 * (same `forwardFillBy` value, e.g. Handle), its photos are spread over them (`Image Src` on the
 * variant rows and on image-only rows after them). This stage holds one group's rows until the
 * group ends, then hands each row the group's values of the group-scoped reference columns.
 * Rejections pass straight through; image-only rows are consumed here.
 *
 * Memory: one group at a time. A group over `maxGroupRows` rows is released early (its rows get
 * the photos seen so far) so a catalog whose group column never changes cannot hold everything.
 */
import type { CatalogEvent, CatalogRow, NormalizedEvent } from './catalog-event.js';

/** Rows of one group held at most before they are released with the photos seen so far. */
export const MAX_GROUP_ROWS = 5_000;

export async function* attachGroupReferences(
  events: AsyncIterable<NormalizedEvent>,
  groupBy: string,
  columns: readonly string[],
  maxGroupRows = MAX_GROUP_ROWS,
): AsyncGenerator<CatalogEvent> {
  let group: string | undefined;
  let rows: CatalogRow[] = [];
  let values = new Map<string, string[]>();

  const release = function* (): Generator<CatalogEvent> {
    const groupValues = Object.freeze(Object.fromEntries([...values].map(([column, list]) => [column, Object.freeze([...list])])));
    for (const row of rows) yield { kind: 'row', row: { ...row, groupValues } };
    rows = [];
  };
  const collect = (column: string, value: string) => {
    if (value === '') return;
    const list = values.get(column) ?? [];
    if (!list.includes(value)) list.push(value);
    values.set(column, list);
  };
  const enter = function* (next: string): Generator<CatalogEvent> {
    if (next === group) return;
    yield* release();
    group = next;
    values = new Map();
  };

  for await (const event of events) {
    if (event.kind === 'rejected') {
      yield event;
      continue;
    }
    if (event.kind === 'groupImage') {
      yield* enter(event.image.group);
      for (const [column, value] of Object.entries(event.image.values)) collect(column, value);
      continue;
    }
    const row = event.row;
    yield* enter(row.fields[groupBy] ?? '');
    for (const column of columns) collect(column, row.fields[column] ?? '');
    rows.push(row);
    if (rows.length >= maxGroupRows) yield* release();
  }
  yield* release();
}

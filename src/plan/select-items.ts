import type { PlanEvent, PlannedItem } from './planned-item.js';

/** Which items a run holds when it is not the whole catalog (`bunch retry`). */
export interface ItemSelection {
  itemKeys: ReadonlySet<string>;
  /** The inputHash each item had in the parent run: an item planned with another is left out. */
  inputHashes?: ReadonlyMap<string, string>;
  /** Told of each selected item whose inputs changed since (catalog or job file edited). */
  onChanged?(itemKey: string, before: string, now: string): void;
  /**
   * Told, once planning has read the whole catalog, of each selected item whose row it did not
   * find: removed from the catalog, its key edited, or a record that no longer parses to a key.
   */
  onMissing?(itemKey: string): void;
}

/**
 * Narrows planned items to a selection, row by row (a row's items arrive together). A selected
 * variant made from another (`from:`) brings its hero along: the hero's stored output is what it
 * is made from, and a hero already stored is recorded skipped, never paid again. Rejections pass
 * only for selected rows.
 */
export async function* selectItems(events: AsyncIterable<PlanEvent>, selection: ItemSelection): AsyncGenerator<PlanEvent> {
  const selectedRows = new Set([...selection.itemKeys].map((itemKey) => itemKey.slice(0, itemKey.lastIndexOf('#'))));
  let row: PlannedItem[] = [];
  const flush = function* (): Generator<PlanEvent> {
    const wanted = new Set<string>();
    for (const item of row) {
      if (!selection.itemKeys.has(item.itemKey) || changed(item)) continue;
      wanted.add(item.itemKey);
      if (item.from) wanted.add(item.from.itemKey);
    }
    for (const item of row) if (wanted.has(item.itemKey)) yield { kind: 'item', item };
    row = [];
  };
  const changed = (item: PlannedItem): boolean => {
    const before = selection.inputHashes?.get(item.itemKey);
    if (before === undefined || before === item.inputHash) return false;
    selection.onChanged?.(item.itemKey, before, item.inputHash);
    return true;
  };
  const foundRows = new Set<string>();
  for await (const event of events) {
    if (event.kind === 'rejected') {
      if (event.rejection.key !== undefined && selectedRows.has(event.rejection.key)) {
        foundRows.add(event.rejection.key);
        yield event;
      }
      continue;
    }
    if (row.length > 0 && row[0]!.rowKey !== event.item.rowKey) yield* flush();
    if (selectedRows.has(event.item.rowKey)) {
      foundRows.add(event.item.rowKey);
      row.push(event.item);
    }
  }
  yield* flush();
  // Not silently lost: a selected item whose row is not in the catalog any more is named.
  for (const itemKey of selection.itemKeys) {
    if (!foundRows.has(itemKey.slice(0, itemKey.lastIndexOf('#')))) selection.onMissing?.(itemKey);
  }
}

import { describe, expect, it } from 'vitest';
import type { PlanEvent, PlannedItem } from '../../../src/plan/planned-item.js';
import { selectItems } from '../../../src/plan/select-items.js';

function item(rowKey: string, variant: string, inputHash = `${rowKey}-${variant}`, from?: string): PlanEvent {
  const planned = { rowKey, variant, itemKey: `${rowKey}#${variant}`, inputHash, ...(from ? { from: { variant: from, itemKey: `${rowKey}#${from}` } } : {}) };
  return { kind: 'item', item: planned as unknown as PlannedItem };
}

async function collect(events: PlanEvent[], itemKeys: string[], hashes: [string, string][] = []) {
  const changed: string[] = [];
  const out: string[] = [];
  const source = (async function* () {
    yield* events;
  })();
  for await (const event of selectItems(source, { itemKeys: new Set(itemKeys), inputHashes: new Map(hashes), onChanged: (key) => void changed.push(key) })) {
    out.push(event.kind === 'item' ? event.item.itemKey : `rejected:${event.rejection.key}`);
  }
  return { out, changed };
}

describe('selectItems', () => {
  const catalog = [item('A', 'hero'), item('A', 'story', 'A-story', 'hero'), item('B', 'hero'), item('B', 'story', 'B-story', 'hero'), item('C', 'hero')];

  it('keeps the selected items in catalog order, and brings the hero a selected variant is made from', async () => {
    expect((await collect(catalog, ['A#story', 'C#hero'])).out).toEqual(['A#hero', 'A#story', 'C#hero']);
    expect((await collect(catalog, ['B#hero'])).out).toEqual(['B#hero']);
  });

  it('leaves out an item planned with other inputs than the parent run had, and says which', async () => {
    const result = await collect(catalog, ['A#hero', 'C#hero'], [['A#hero', 'A-hero'], ['C#hero', 'something else']]);
    expect(result).toEqual({ out: ['A#hero'], changed: ['C#hero'] });
  });

  it('passes rejections of selected rows only', async () => {
    const rejected = (key: string): PlanEvent => ({ kind: 'rejected', rejection: { key } as never });
    expect((await collect([rejected('A'), ...catalog, rejected('Z')], ['A#hero'])).out).toEqual(['rejected:A', 'A#hero']);
  });
});

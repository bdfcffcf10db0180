import { expect } from 'vitest';
import type { ManifestItemLine, ManifestLine } from '../../src/manifest/manifest-line.js';

/**
 * Invariant 1 as a drill checks it: the manifest has exactly `count` item lines, one per item
 * (itemKey and index both unique), each in a terminal state. Returns the item lines.
 */
export function expectEachItemOnce(lines: ManifestLine[], count: number): ManifestItemLine[] {
  const items = lines.filter((line): line is ManifestItemLine => line.status !== 'rejected');
  expect(items).toHaveLength(count);
  expect(lines).toHaveLength(count);
  expect(new Set(items.map((line) => line.itemKey)).size).toBe(count);
  expect(new Set(items.map((line) => line.index)).size).toBe(count);
  for (const line of items) expect(['succeeded', 'failed', 'skipped', 'cancelled']).toContain(line.status);
  return items;
}

import { DigestTable } from '../digests/digest-table.js';

/**
 * The catalog keys seen so far and the row each was first seen in, for duplicate detection, in a
 * DigestTable (96-bit digests in typed arrays) rather than a Map of key strings: about a third of
 * the memory for a million-row catalog.
 */
export class KeyIndex {
  private readonly table = new DigestTable();

  get size(): number {
    return this.table.size;
  }

  /** The row the key was first seen in, or undefined (and the key is remembered with `rowNumber`). */
  firstRowOrAdd(key: string, rowNumber: number): number | undefined {
    if (!Number.isInteger(rowNumber) || rowNumber < 0 || rowNumber >= 0xffffffff - 1) throw new RangeError(`not a row number: ${rowNumber}`);
    return this.table.getOrAdd(key, rowNumber);
  }
}

import { hash } from 'node:crypto';

/**
 * The catalog keys seen so far and the row each was first seen in, for duplicate detection, in
 * typed arrays instead of a Map of strings: each key is kept as 96 bits of its SHA-1 and the row
 * number, 16 bytes a slot in an open-addressing table kept at most half full — about 32 MB for a
 * million keys, against about 100 MB for a Map of the key strings.
 *
 * Two different keys sharing 96 bits of SHA-1 would make the second a "duplicate": for a
 * million-key catalog the chance is about 1 in 10^17, far below a disk's undetected error rate.
 */
const START_CAPACITY = 1 << 12;

export class KeyIndex {
  private capacity = START_CAPACITY;
  private words = new Uint32Array(START_CAPACITY * 3);
  /** Row number + 1 of the key in the slot; 0 = empty. */
  private rows = new Uint32Array(START_CAPACITY);
  private count = 0;

  get size(): number {
    return this.count;
  }

  /** The row the key was first seen in, or undefined (and the key is remembered with `rowNumber`). */
  firstRowOrAdd(key: string, rowNumber: number): number | undefined {
    if (!Number.isInteger(rowNumber) || rowNumber < 0 || rowNumber >= 0xffffffff) throw new RangeError(`not a row number: ${rowNumber}`);
    const digest = hash('sha1', key, 'buffer');
    const a = digest.readUInt32LE(0);
    const b = digest.readUInt32LE(4);
    const c = digest.readUInt32LE(8);
    const slot = this.find(a, b, c);
    const existing = this.rows[slot] ?? 0;
    if (existing !== 0) return existing - 1;
    this.store(slot, a, b, c, rowNumber + 1);
    this.count += 1;
    if (this.count * 2 > this.capacity) this.grow();
    return undefined;
  }

  /** The slot holding these bits, or the empty slot where they would go (linear probing). */
  private find(a: number, b: number, c: number): number {
    const mask = this.capacity - 1;
    let slot = a & mask;
    for (;;) {
      if ((this.rows[slot] ?? 0) === 0) return slot;
      const at = slot * 3;
      if (this.words[at] === a && this.words[at + 1] === b && this.words[at + 2] === c) return slot;
      slot = (slot + 1) & mask;
    }
  }

  private store(slot: number, a: number, b: number, c: number, rowNumber: number): void {
    const at = slot * 3;
    this.words[at] = a;
    this.words[at + 1] = b;
    this.words[at + 2] = c;
    this.rows[slot] = rowNumber;
  }

  private grow(): void {
    const oldWords = this.words;
    const oldRows = this.rows;
    const oldCapacity = this.capacity;
    this.capacity = oldCapacity * 2;
    this.words = new Uint32Array(this.capacity * 3);
    this.rows = new Uint32Array(this.capacity);
    for (let slot = 0; slot < oldCapacity; slot += 1) {
      const row = oldRows[slot] ?? 0;
      if (row === 0) continue;
      const at = slot * 3;
      const a = oldWords[at] ?? 0;
      const b = oldWords[at + 1] ?? 0;
      const c = oldWords[at + 2] ?? 0;
      this.store(this.find(a, b, c), a, b, c, row);
    }
  }
}

import { sha1Binary, wordAt } from './sha1-words.js';

/**
 * A set of strings with a number for each, kept as 96 bits of each string's SHA-1 in typed arrays
 * instead of a Map of strings: 16 bytes a slot in an open-addressing table kept at most half
 * full — about 32 MB for a million strings, against about 100 MB for a Map of them. Used where a
 * planner meets a million keys: catalog keys (duplicate rows), stored-output entries by item key,
 * object keys seen in a listing.
 *
 * Two different strings sharing 96 bits of SHA-1 would be taken for one another: for a few
 * million strings the chance is about 1 in 10^16, far below a disk's undetected error rate.
 */
const START_CAPACITY = 1 << 12;
/** Values are stored + 1 so that 0 marks an empty slot. */
const MAX_VALUE = 0xfffffffe;

export class DigestTable {
  private capacity = START_CAPACITY;
  private words = new Uint32Array(START_CAPACITY * 3);
  private values = new Uint32Array(START_CAPACITY);
  private count = 0;

  get size(): number {
    return this.count;
  }

  /** The value kept for the string, or undefined. */
  get(text: string | Uint8Array): number | undefined {
    const [a, b, c] = digest(text);
    const stored = this.values[this.find(a, b, c)] ?? 0;
    return stored === 0 ? undefined : stored - 1;
  }

  has(text: string): boolean {
    return this.get(text) !== undefined;
  }

  /** The value already kept for the string, or undefined after keeping `value` for it. */
  getOrAdd(text: string | Uint8Array, value: number): number | undefined {
    if (!Number.isInteger(value) || value < 0 || value > MAX_VALUE - 1) throw new RangeError(`not a table value: ${value}`);
    const [a, b, c] = digest(text);
    const slot = this.find(a, b, c);
    const existing = this.values[slot] ?? 0;
    if (existing !== 0) return existing - 1;
    this.store(slot, a, b, c, value + 1);
    this.count += 1;
    if (this.count * 2 > this.capacity) this.grow();
    return undefined;
  }

  /** The slot holding these bits, or the empty slot where they would go (linear probing). */
  private find(a: number, b: number, c: number): number {
    const mask = this.capacity - 1;
    let slot = a & mask;
    for (;;) {
      if ((this.values[slot] ?? 0) === 0) return slot;
      const at = slot * 3;
      if (this.words[at] === a && this.words[at + 1] === b && this.words[at + 2] === c) return slot;
      slot = (slot + 1) & mask;
    }
  }

  private store(slot: number, a: number, b: number, c: number, value: number): void {
    const at = slot * 3;
    this.words[at] = a;
    this.words[at + 1] = b;
    this.words[at + 2] = c;
    this.values[slot] = value;
  }

  private grow(): void {
    const oldWords = this.words;
    const oldValues = this.values;
    const oldCapacity = this.capacity;
    this.capacity = oldCapacity * 2;
    this.words = new Uint32Array(this.capacity * 3);
    this.values = new Uint32Array(this.capacity);
    for (let slot = 0; slot < oldCapacity; slot += 1) {
      const value = oldValues[slot] ?? 0;
      if (value === 0) continue;
      const at = slot * 3;
      const a = oldWords[at] ?? 0;
      const b = oldWords[at + 1] ?? 0;
      const c = oldWords[at + 2] ?? 0;
      this.store(this.find(a, b, c), a, b, c, value);
    }
  }
}

/** A string is hashed as its UTF-8 bytes: a string and its bytes have the same digest. */
function digest(text: string | Uint8Array): [number, number, number] {
  const bits = sha1Binary(text);
  return [wordAt(bits, 0), wordAt(bits, 4), wordAt(bits, 8)];
}

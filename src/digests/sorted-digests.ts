import { sha1Binary, wordAt } from './sha1-words.js';

/**
 * A sealed set of strings as sorted 64-bit SHA-1 prefixes (8 bytes each, no strings kept), for
 * "was this key in the listing?" over millions of object keys. `indexOf` gives a stable position
 * so a caller can keep a bit per member. A string absent from the set is taken for a member only
 * if its 64 bits equal a member's: about 1 in 10^12 for a few million members.
 */
export class SortedDigests {
  private values = new BigUint64Array(1024);
  private count = 0;
  private sealed = false;

  get size(): number {
    return this.count;
  }

  add(text: string): void {
    if (this.sealed) throw new Error('SortedDigests is sealed');
    if (this.count === this.values.length) {
      const grown = new BigUint64Array(this.values.length * 2);
      grown.set(this.values);
      this.values = grown;
    }
    this.values[this.count] = digest64(text);
    this.count += 1;
  }

  /** Sorts and drops repeats; no more adds. */
  seal(): this {
    if (this.sealed) return this;
    const sorted = this.values.slice(0, this.count).sort();
    let kept = 0;
    for (let i = 0; i < sorted.length; i += 1) {
      if (kept === 0 || sorted[i] !== sorted[kept - 1]) sorted[kept++] = sorted[i] as bigint;
    }
    this.values = sorted.slice(0, kept);
    this.count = kept;
    this.sealed = true;
    return this;
  }

  /** The member's position (0 ≤ p < size) in the sealed set, or -1. */
  indexOf(text: string): number {
    if (!this.sealed) throw new Error('SortedDigests must be sealed before look-ups');
    const wanted = digest64(text);
    let low = 0;
    let high = this.count - 1;
    while (low <= high) {
      const middle = (low + high) >>> 1;
      const value = this.values[middle] as bigint;
      if (value === wanted) return middle;
      if (value < wanted) low = middle + 1;
      else high = middle - 1;
    }
    return -1;
  }

  has(text: string): boolean {
    return this.indexOf(text) !== -1;
  }
}

/** The first 8 bytes of the SHA-1, little-endian (what readBigUInt64LE reads). */
function digest64(text: string): bigint {
  const bits = sha1Binary(text);
  return BigInt(wordAt(bits, 0)) | (BigInt(wordAt(bits, 4)) << 32n);
}

import type { Redis } from 'ioredis';

/**
 * Where the sweep of one queue's failed set stands between passes (sweep-given-up-jobs.ts). The
 * set is scored by when each job failed; a pass walks ranges of it newest first:
 *  - the range of failures newer than the last pass's start (each pass looks at those first, so a
 *    fresh orphan is found within a pass or two however long the set is);
 *  - then the rest of a full walk from where the last pass stopped (a bounded share a pass).
 * Once a full walk is done, the next pass starts another: jobs looked at before are looked at
 * again (one whose handling failed, or whose process died after the look), as a sweep must.
 * Kept in Redis beside the sweep's lock, so whichever fleet process sweeps next goes on from here.
 */
export interface SweepRange {
  /** Go on at the jobs scored `score`, after the first `skip` of them (equal scores keep their order). */
  score: number;
  skip: number;
  /** Down to scores above this one (null: to the oldest). */
  above: number | null;
}

export interface SweepPlace {
  /** The newest score the last pass looked from. */
  top: number;
  /** Ranges left to walk, newest first. */
  ranges: SweepRange[];
}

export interface SweepPlaceStore {
  load(): Promise<SweepPlace | undefined>;
  save(place: SweepPlace): Promise<void>;
}

/** The ranges a pass walks, looking from `settledBefore` (the newest job old enough to sweep). */
export function placeForPass(last: SweepPlace | undefined, settledBefore: number): SweepPlace {
  if (!last || last.ranges.length === 0) return { top: settledBefore, ranges: [{ score: settledBefore, skip: 0, above: null }] };
  const ranges = [...last.ranges];
  // Fleet processes' clocks (and grace settings) differ: one behind the last sweeper's adds no
  // range and keeps the top (everything up to it was walked or is in a range).
  if (settledBefore > last.top) ranges.unshift({ score: settledBefore, skip: 0, above: last.top });
  // Two ranges become one that also re-walks what lies between them (looked at already:
  // harmless), so the place stays small however many passes end inside a range.
  while (ranges.length > MAX_RANGES) {
    const [a, b] = ranges.splice(ranges.length - 2, 2) as [SweepRange, SweepRange];
    ranges.push(mergedRange(a, b));
  }
  return { top: Math.max(last.top, settledBefore), ranges };
}

/** Ranges a place keeps at most (one more comes with each pass that ends inside a range). */
export const MAX_RANGES = 8;

/** One range covering both: from the higher place down to the lower floor. */
function mergedRange(a: SweepRange, b: SweepRange): SweepRange {
  const start = a.score > b.score ? a : b.score > a.score ? b : { score: a.score, skip: Math.min(a.skip, b.skip) };
  const above = a.above === null || b.above === null ? null : Math.min(a.above, b.above);
  return { score: start.score, skip: start.skip, above };
}

/** Starts every pass afresh at the newest (no place kept). */
export const NO_SWEEP_PLACE: SweepPlaceStore = { load: async () => undefined, save: async () => undefined };

/** Kept a month (as long as failed jobs are); a place that does not parse starts a new walk. */
export function redisSweepPlace(redis: Redis, key: string): SweepPlaceStore {
  return {
    async load() {
      const text = await redis.get(key);
      if (!text) return undefined;
      try {
        const place = JSON.parse(text) as SweepPlace;
        return typeof place.top === 'number' && Array.isArray(place.ranges) ? place : undefined;
      } catch {
        return undefined;
      }
    },
    async save(place) {
      await redis.set(key, JSON.stringify(place), 'PX', 30 * 24 * 3600 * 1000);
    },
  };
}

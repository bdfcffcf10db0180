import { describe, expect, it } from 'vitest';
import { MAX_RANGES, placeForPass } from '../../../src/workers/sweep-place.js';

describe('placeForPass (which ranges of a failed set a sweep pass walks)', () => {
  it('starts a full walk when there is no place, or the last walk is done', () => {
    expect(placeForPass(undefined, 1000)).toEqual({ top: 1000, ranges: [{ score: 1000, skip: 0, above: null }] });
    expect(placeForPass({ top: 900, ranges: [] }, 1000)).toEqual({ top: 1000, ranges: [{ score: 1000, skip: 0, above: null }] });
  });

  it('walks the failures since the last pass first, then goes on where it stopped', () => {
    const last = { top: 900, ranges: [{ score: 400, skip: 2, above: null }] };
    expect(placeForPass(last, 1000)).toEqual({
      top: 1000,
      ranges: [
        { score: 1000, skip: 0, above: 900 },
        { score: 400, skip: 2, above: null },
      ],
    });
    // The place it was given is not changed (it is saved only at the end of a pass).
    expect(last).toEqual({ top: 900, ranges: [{ score: 400, skip: 2, above: null }] });
    // Nothing newer (the same instant): no empty range in front.
    expect(placeForPass(last, 900)).toEqual({ top: 900, ranges: [{ score: 400, skip: 2, above: null }] });
  });

  it('a sweeper whose clock is behind the last one\'s goes on with the walk and keeps the top', () => {
    expect(placeForPass({ top: 2000, ranges: [{ score: 400, skip: 0, above: null }] }, 1000)).toEqual({
      top: 2000,
      ranges: [{ score: 400, skip: 0, above: null }],
    });
  });

  it('keeps at most MAX_RANGES ranges, the oldest two merged into one covering both', () => {
    let place = { top: 100, ranges: [{ score: 50, skip: 3, above: null as number | null }] };
    // Each pass ends inside its newest range: one more range every pass.
    for (let top = 200; top <= 1200; top += 100) place = placeForPass(place, top);
    expect(place.ranges).toHaveLength(MAX_RANGES);
    expect(place.ranges[0]).toEqual({ score: 1200, skip: 0, above: 1100 });
    // The last one reaches from the oldest head's start down to the end of the first walk.
    expect(place.ranges.at(-1)).toEqual({ score: 500, skip: 0, above: null });
  });
});

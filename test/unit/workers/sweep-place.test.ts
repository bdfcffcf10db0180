import { describe, expect, it } from 'vitest';
import { placeForPass } from '../../../src/workers/sweep-place.js';

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

  it('starts afresh when the clock stepped back (nothing is assumed looked at)', () => {
    expect(placeForPass({ top: 2000, ranges: [{ score: 400, skip: 0, above: null }] }, 1000)).toEqual({
      top: 1000,
      ranges: [{ score: 1000, skip: 0, above: null }],
    });
  });
});

import { once } from 'node:events';
import { describe, expect, it } from 'vitest';
import { startCallDeadline } from '../../../src/gemini/call-deadline.js';

describe('startCallDeadline', () => {
  it('aborts its signal when the deadline passes and says so', async () => {
    const deadline = startCallDeadline(5);
    await once(deadline.signal, 'abort');
    expect(deadline.timedOut()).toBe(true);
    expect(deadline.cancelled()).toBe(false);
    expect((deadline.signal.reason as DOMException).name).toBe('TimeoutError');
    deadline.clear();
  });

  it("follows the caller's signal as a cancellation", () => {
    const caller = new AbortController();
    const deadline = startCallDeadline(60_000, caller.signal);
    caller.abort(new Error('shutdown'));
    expect(deadline.signal.aborted).toBe(true);
    expect(deadline.cancelled()).toBe(true);
    expect(deadline.timedOut()).toBe(false);
    deadline.clear();
  });

  it('starts aborted when the caller signal already is', () => {
    const deadline = startCallDeadline(60_000, AbortSignal.abort());
    expect(deadline.signal.aborted).toBe(true);
    expect(deadline.cancelled()).toBe(true);
    deadline.clear();
  });

  it('after clear, neither the timer nor the caller abort it', () => {
    const caller = new AbortController();
    const deadline = startCallDeadline(60_000, caller.signal);
    deadline.clear();
    caller.abort();
    expect(deadline.signal.aborted).toBe(false);
  });

  it('rejects a non-positive timeout', () => {
    expect(() => startCallDeadline(0)).toThrow(RangeError);
  });
});

import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import pino from 'pino';
import { createOutageReporter } from '../../../src/redis/outage-reporter.js';

beforeEach(() => void vi.useFakeTimers({ now: 1_000_000 }));
afterEach(() => void vi.useRealTimers());

describe('createOutageReporter', () => {
  it('a warning when Redis goes and one per interval while it stays gone, one line when it is back, passwords masked', () => {
    const lines: Record<string, unknown>[] = [];
    const logger = pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) });
    const reporter = createOutageReporter(logger, 'redis://:hunter2@cache:6379', 10_000);
    reporter.onReady(); // a first connect is not a recovery
    for (let second = 0; second < 26; second += 1) {
      reporter.onError(new Error('connect ECONNREFUSED'));
      reporter.onError(new Error('connect ECONNREFUSED'));
      vi.advanceTimersByTime(1000);
    }
    expect(reporter.downForMs()).toBe(26_000);
    reporter.onReady();
    reporter.onReady();
    vi.advanceTimersByTime(30_000);
    expect(lines.map((line) => [line.msg, line.downForMs ?? line.outageMs, line.redis])).toEqual([
      ['Redis unreachable; retrying', 0, 'redis://:***@cache:6379'],
      ['Redis unreachable; retrying', 10_000, 'redis://:***@cache:6379'],
      ['Redis unreachable; retrying', 20_000, 'redis://:***@cache:6379'],
      ['Redis is back', 26_000, 'redis://:***@cache:6379'],
    ]);
    expect(reporter.downForMs()).toBeUndefined();
  });
});

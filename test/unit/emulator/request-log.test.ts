import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import { RequestLog } from '../../../src/emulator/request-log.js';
import { RpmQuota } from '../../../src/emulator/rpm-quota.js';

const entry = (route: string, status: number, model?: string) => ({
  time: 1,
  method: 'POST',
  path: '/x',
  route,
  status,
  durationMs: 2,
  ...(model === undefined ? {} : { model }),
});

describe('RequestLog', () => {
  it('keeps the last N entries but counts forever', () => {
    const log = new RequestLog(3);
    for (let index = 0; index < 5; index += 1) log.record(entry('generateContent', index < 4 ? 200 : 503, 'm'));
    expect(log.list()).toHaveLength(3);
    expect(log.count()).toBe(5);
    expect(log.count({ status: 503 })).toBe(1);
    expect(log.stats()).toMatchObject({ total: 5, byRoute: { generateContent: 5 }, byModel: { m: 5 }, byStatus: { '200': 4, '503': 1 } });
    log.clear();
    expect(log.count()).toBe(0);
    expect(log.list()).toEqual([]);
  });

  it('tracks in-flight requests with their annotations, then records them', () => {
    const log = new RequestLog();
    const req = {} as IncomingMessage;
    log.begin(req, { time: 5, method: 'POST', path: '/p', route: 'generateContent' });
    log.annotate(req, { model: 'm', fault: 'hang' });
    expect(log.inFlight({ fault: 'hang' })).toEqual([{ time: 5, method: 'POST', path: '/p', route: 'generateContent', model: 'm', fault: 'hang' }]);
    log.finish(req, 0, 9);
    expect(log.inFlight()).toEqual([]);
    expect(log.list()).toEqual([{ time: 5, method: 'POST', path: '/p', route: 'generateContent', model: 'm', fault: 'hang', status: 0, durationMs: 9 }]);
  });

  it('counts generations per prompt hash and source', () => {
    const log = new RequestLog();
    log.recordGeneration('m', 'h1', 'http');
    log.recordGeneration('m', 'h1', 'batch');
    log.recordGeneration('n', 'h2', 'http');
    expect(log.generationsFor('h1')).toBe(2);
    expect(log.generationsFor('h3')).toBe(0);
    expect(log.stats().generations).toEqual({ total: 3, byModel: { m: 2, n: 1 }, bySource: { http: 2, batch: 1 }, distinctPrompts: 2 });
  });
});

describe('RpmQuota', () => {
  it('admits up to the limit inside a sliding window', () => {
    const quota = new RpmQuota();
    expect(quota.tryAdmit('m', 2, 1000, 0)).toEqual({ ok: true });
    expect(quota.tryAdmit('m', 2, 1000, 400)).toEqual({ ok: true });
    expect(quota.tryAdmit('m', 2, 1000, 500)).toEqual({ ok: false, retryAfterMs: 500 });
    expect(quota.tryAdmit('other', 2, 1000, 500)).toEqual({ ok: true });
    expect(quota.tryAdmit('m', 2, 1000, 1000)).toEqual({ ok: true });
  });
});

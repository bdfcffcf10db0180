import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { pollDelay } from '../../../src/lanes/batch/batch-processor.js';
import { readLines } from '../../../src/lanes/batch/read-lines.js';
import { codeForRpcStatus } from '../../../src/gemini/rpc-status-code.js';
import { normalizeBatchState, readUpstreamBatch } from '../../../src/gemini/upstream-batch.js';

describe('readUpstreamBatch', () => {
  it('accepts BATCH_STATE_* (REST) and JOB_STATE_* (SDK) names alike', () => {
    expect(normalizeBatchState('BATCH_STATE_SUCCEEDED')).toBe('SUCCEEDED');
    expect(normalizeBatchState('JOB_STATE_EXPIRED')).toBe('EXPIRED');
    expect(normalizeBatchState(undefined)).toBe('UNSPECIFIED');
    expect(readUpstreamBatch({ name: 'batches/a', metadata: { state: 'JOB_STATE_RUNNING' } }).terminal).toBe(false);
    expect(readUpstreamBatch({ name: 'batches/a', metadata: { state: 'JOB_STATE_CANCELLED' } }).terminal).toBe(true);
    expect(readUpstreamBatch({ name: 'batches/a', metadata: { state: 'BATCH_STATE_SOMETHING_NEW' } }).terminal).toBe(false);
  });

  it('reads stats (int64 strings, zeros omitted), the result file, the error and inline results', () => {
    const batch = readUpstreamBatch({
      name: 'batches/x1',
      metadata: { displayName: 'bunch:r:s0001', state: 'BATCH_STATE_SUCCEEDED', batchStats: { requestCount: '3', successfulRequestCount: '2', failedRequestCount: '1' } },
      done: true,
      response: { responsesFile: 'files/batch-x1' },
    });
    expect(batch).toEqual({
      name: 'batches/x1',
      displayName: 'bunch:r:s0001',
      state: 'SUCCEEDED',
      terminal: true,
      stats: { requests: 3, succeeded: 2, failed: 1, pending: 0 },
      responsesFile: 'files/batch-x1',
    });
    const failed = readUpstreamBatch({ name: 'batches/x2', metadata: { state: 'BATCH_STATE_FAILED' }, done: true, error: { code: 13, message: 'boom' } });
    expect(failed.error).toEqual({ code: 13, message: 'boom' });
    const inline = readUpstreamBatch({
      name: 'batches/x3',
      metadata: {
        state: 'BATCH_STATE_SUCCEEDED',
        output: { inlinedResponses: { inlinedResponses: [{ response: { candidates: [] }, metadata: { key: 'k1' } }, { error: { code: 14 }, metadata: { key: 'k2' } }] } },
      },
    });
    expect(inline.inlinedResponses).toEqual([{ key: 'k1', response: { candidates: [] } }, { key: 'k2', error: { code: 14 } }]);
  });
});

describe('codeForRpcStatus', () => {
  it('a PERMISSION_DENIED about a file the item names is that item\'s reference, not the key', () => {
    expect(codeForRpcStatus(7, 'You do not have permission to access the File abc123 or it may not exist.')).toBe('E_REFERENCE');
    expect(codeForRpcStatus(7, 'Permission denied on resource project p.')).toBe('E_AUTH');
  });

  it('maps gRPC codes with the sync lane retry meaning', () => {
    expect([1, 3, 4, 5, 8, 13, 14, 16, undefined].map((code) => codeForRpcStatus(code))).toEqual([
      'E_BATCH', 'E_BAD_REQUEST', 'E_TIMEOUT', 'E_NOT_FOUND', 'E_RATE_LIMITED', 'E_UPSTREAM', 'E_UPSTREAM', 'E_AUTH', 'E_BATCH',
    ]);
  });

  it('FAILED_PRECONDITION (9) is E_PRECONDITION and PERMISSION_DENIED (7) E_AUTH, as on the HTTP wire', () => {
    expect(codeForRpcStatus(9)).toBe('E_PRECONDITION');
    expect(codeForRpcStatus(7)).toBe('E_AUTH');
  });
});

describe('readLines', () => {
  it('splits lines across chunk boundaries, keeps lines far larger than a chunk, skips empty lines', async () => {
    const big = 'x'.repeat(3 * 1024 * 1024);
    const text = `{"a":1}\n\n${big}\r\nlast`;
    const chunks: Buffer[] = [];
    const bytes = Buffer.from(text);
    for (let i = 0; i < bytes.length; i += 65_536) chunks.push(bytes.subarray(i, i + 65_536));
    const lines: string[] = [];
    for await (const line of readLines(Readable.from(chunks))) lines.push(line);
    expect(lines.map((l) => l.length)).toEqual([7, big.length + 1, 4]);
    expect(lines[0]).toBe('{"a":1}');
    expect(lines[2]).toBe('last');
  });
});

describe('pollDelay', () => {
  it('backs off from the interval, is capped, and never sleeps past the deadline cutoff', () => {
    expect(pollDelay(0, 1000, 1e9)).toBe(1000);
    expect(pollDelay(1, 1000, 1e9)).toBe(1500);
    expect(pollDelay(50, 1000, 1e9)).toBe(10_000);
    expect(pollDelay(50, 30_000, 1e9)).toBe(300_000);
    expect(pollDelay(50, 120_000, 1e9)).toBe(600_000);
    expect(pollDelay(3, 1000, 200)).toBe(200);
  });
});

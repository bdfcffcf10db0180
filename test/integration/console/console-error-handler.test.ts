import { request } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { afterEach, describe, expect, it } from 'vitest';
import { consoleErrorHandler } from '../../../src/console/console-error-handler.js';
import { capturedLogger } from '../../helpers/captured-logger.js';

/**
 * The console's last error handler with a response that fails after it started (bull-board's
 * static files are served by serve-static, which passes a read error part-way through a file on).
 * Before: the handler returned without ending the response, and the client waited on a half-sent
 * answer until its connection was dropped for idleness (60 s), the failure not logged.
 */
describe("the console's error handler", () => {
  let close: (() => void) | undefined;
  afterEach(() => close?.());

  it('cuts a response that failed mid-way at once, and logs it', async () => {
    const log = capturedLogger();
    const app = express();
    app.get('/half', (_req, res, next) => {
      res.writeHead(200, { 'content-type': 'application/javascript', 'content-length': '1000' });
      res.write('x'.repeat(100));
      // The failure comes once the first bytes are on their way, as a read failing part-way does.
      setTimeout(() => next(new Error('read failed part-way')), 100);
    });
    app.use(consoleErrorHandler(log.logger));
    const server = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    close = () => server.close();
    const { port } = server.address() as AddressInfo;

    const outcome = await new Promise<{ status: number; received: number; ended: string }>((resolve) => {
      const started = request({ host: '127.0.0.1', port, path: '/half' }, (res) => {
        let received = 0;
        res.on('data', (chunk: Buffer) => (received += chunk.length));
        res.on('error', () => undefined);
        res.on('close', () => resolve({ status: res.statusCode ?? 0, received, ended: res.complete ? 'complete' : 'cut' }));
        res.resume();
      });
      // A half-sent answer left open would trip this instead.
      started.setTimeout(5000, () => {
        resolve({ status: 0, received: 0, ended: 'still waiting after 5 s' });
        started.destroy();
      });
      started.on('error', () => resolve({ status: 0, received: 0, ended: 'cut before the answer started' }));
      started.end();
    });
    expect(outcome).toEqual({ status: 200, received: 100, ended: 'cut' });
    expect(log.lines('console response failed mid-way')).toEqual([expect.objectContaining({ level: 40, path: '/half', err: expect.objectContaining({ message: 'read failed part-way' }) })]);
  });
});

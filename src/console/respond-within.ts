import type { NextFunction, Request, Response } from 'express';
import type { Logger } from 'pino';
import { unansweredPage } from './console-pages.js';

/** How long a console request may wait for Redis or an output store before it is answered. */
export const CONSOLE_ANSWER_MS = 10_000;
/** How soon a page answered that way reloads itself (and what Retry-After says). */
const RETRY_SECONDS = 10;

/**
 * The bound a console applies: never shorter than the Retry button's own wait plus its reads, as
 * that button answers by itself (console-retry.ts).
 */
export function consoleAnswerBound(answerWithinMs: number | undefined, retryAnswerWithinMs: number): number {
  return Math.max(answerWithinMs ?? CONSOLE_ANSWER_MS, retryAnswerWithinMs + 2000);
}

/**
 * Where a button's request sends the browser should its answer come late (set by the route before
 * it waits): the run's page, with a message, instead of an error page.
 */
export function answerLateWith(res: Response, location: string): void {
  res.locals['lateAnswer'] = location;
}

/**
 * Every console request answers within `ms`. A Redis that stops answering while its connection
 * stays up (a frozen process or VM, a partition dropping packets), or an output store that stalls,
 * leaves the reads behind a page pending for minutes, or for ever: the control plane's commands
 * have no timeout of their own. Without a bound each open tab, each Prometheus scrape and each
 * bull-board poll added a request that never ended. Past the bound:
 * - a page answers 503 with a page that reloads itself every 10 s (an open dashboard recovers
 *   by itself once Redis does); the APIs a JSON error, `/metrics` plain text;
 * - a button (a POST) may still be carried out once Redis answers — a click is not undone — so it
 *   is never told "try again": it goes to where the route said (answerLateWith) with a message
 *   saying so, or else answers 503 saying so.
 * Whatever the handler does once the reads settle is dropped (createConsoleApp's error handler
 * ignores a response already ended). A response already started (a file being sent) is left to
 * the server's idle timeout.
 */
export function respondWithin(ms: number, logger: Logger) {
  const waited = ms % 1000 === 0 ? `${ms / 1000} s` : `${ms} ms`;
  return (req: Request, res: Response, next: NextFunction): void => {
    // Read now: a mounted router (bull-board on /queues) rewrites the path before the bound is up.
    const requestPath = req.path;
    const wantsJson = requestPath.startsWith('/api/') || requestPath.startsWith('/queues/api/');
    const isChange = req.method !== 'GET' && req.method !== 'HEAD';
    const timer = setTimeout(() => {
      if (res.headersSent) return;
      logger.warn({ path: requestPath, method: req.method, waitedMs: ms }, 'console request answered late: Redis or the output store did not answer');
      const late = res.locals['lateAnswer'];
      if (isChange && typeof late === 'string') {
        const message = `Asked for, but Redis or the output store did not answer within ${waited}: it goes on once they answer. Check this page before asking again.`;
        res.redirect(303, `${late}${late.includes('?') ? '&' : '?'}message=${encodeURIComponent(message)}`);
        return;
      }
      const message = isChange
        ? `no answer from Redis or the output store within ${waited}; what was asked for may still be carried out once they answer: check before asking again`
        : `no answer from Redis or the output store within ${waited}; try again once they answer`;
      res.setHeader('retry-after', String(RETRY_SECONDS));
      if (wantsJson) res.status(503).json({ error: { code: 'E_TIMEOUT', message } });
      else if (isChange || requestPath === '/metrics') res.status(503).type('text/plain').send(`E_TIMEOUT: ${message}\n`);
      else res.status(503).type('html').send(unansweredPage(`E_TIMEOUT: ${message}. This page tries again every ${RETRY_SECONDS} s.`, RETRY_SECONDS));
    }, ms);
    const done = () => clearTimeout(timer);
    res.once('finish', done);
    res.once('close', done);
    next();
  };
}

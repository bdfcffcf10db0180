import type { NextFunction, Request, Response } from 'express';
import type { Logger } from 'pino';

/** How long a console request may wait for Redis or an output store before it is answered 503. */
export const CONSOLE_ANSWER_MS = 10_000;

/**
 * The bound a console applies: never shorter than the Retry button's own wait plus its reads, as
 * that button answers by itself (console-retry.ts).
 */
export function consoleAnswerBound(answerWithinMs: number | undefined, retryAnswerWithinMs: number): number {
  return Math.max(answerWithinMs ?? CONSOLE_ANSWER_MS, retryAnswerWithinMs + 2000);
}

/**
 * Every console request answers within `ms`. A Redis that stops answering while its connection
 * stays up (a frozen process or VM, a partition dropping packets), or an output store that stalls,
 * leaves the reads behind a page pending for minutes, or for ever: the control plane's commands
 * have no timeout of their own. Without a bound each open tab, each Prometheus scrape and each
 * bull-board poll added a request that never ended. Past the bound the request is answered
 * `503 E_TIMEOUT`; whatever its handler does once the reads settle is dropped (createConsoleApp's
 * error handler ignores a response already sent). A response already started (a file being sent)
 * is left to the server's idle timeout.
 */
export function respondWithin(ms: number, logger: Logger) {
  return (req: Request, res: Response, next: NextFunction): void => {
    // Read now: a mounted router (bull-board on /queues) rewrites the path before the bound is up.
    const requestPath = req.path;
    const wantsJson = requestPath.startsWith('/api/') || requestPath.startsWith('/queues/api/');
    const timer = setTimeout(() => {
      if (res.headersSent) return;
      const message = `no answer from Redis or the output store within ${ms % 1000 === 0 ? `${ms / 1000} s` : `${ms} ms`}; try again once they answer`;
      logger.warn({ path: requestPath, waitedMs: ms }, 'console request answered 503: Redis or the output store did not answer');
      res.setHeader('retry-after', '10');
      if (wantsJson) res.status(503).json({ error: { code: 'E_TIMEOUT', message } });
      else res.status(503).type('text/plain').send(`E_TIMEOUT: ${message}\n`);
    }, ms);
    const done = () => clearTimeout(timer);
    res.once('finish', done);
    res.once('close', done);
    next();
  };
}

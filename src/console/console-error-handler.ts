import type { NextFunction, Request, Response } from 'express';
import type { Logger } from 'pino';
import { isBunchError } from '../errors/bunch-error.js';

/**
 * The console's last error handler: a bunch error as its code and message (404 for an unknown
 * run, 400 for bad input, 500 otherwise, logged), in plain text.
 */
export function consoleErrorHandler(logger: Logger) {
  return (error: unknown, req: Request, res: Response, _next: NextFunction): void => {
    if (res.headersSent) {
      // Ended already (answered by respond-within.ts while this handler waited): the late outcome
      // has nobody to go to. Started but not ended (a static file failing mid-way): cut it, so the
      // client sees a broken response at once instead of waiting on a half-sent one.
      if (res.writableEnded) return;
      logger.warn({ path: req.path, err: { message: (error as Error).message } }, 'console response failed mid-way');
      res.destroy();
      return;
    }
    const status = isBunchError(error, 'E_NOT_FOUND') ? 404 : isBunchError(error) && ['E_CONFIG', 'E_JOB_FILE', 'E_UNSAFE_KEY'].includes(error.code) ? 400 : 500;
    if (status === 500) logger.error({ err: { message: (error as Error).message } }, 'console request failed');
    res.status(status).type('text/plain').send(`${isBunchError(error) ? `${error.code}: ` : ''}${(error as Error).message}\n`);
  };
}

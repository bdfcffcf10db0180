import type { ServerResponse } from 'node:http';
import type { EmulatorContext } from '../emulator-context.js';
import { GoogleApiError, sendGoogleError } from '../google-error.js';
import type { RouteContext } from '../route.js';

/**
 * Runs a route body and turns what it throws into the Google error envelope. Anything that is
 * not a GoogleApiError is an emulator bug and answers 500 INTERNAL; once a streamed body has
 * started, the only honest signal left is to cut the connection.
 */
export async function answerGoogleErrors(res: ServerResponse, body: () => Promise<void>): Promise<void> {
  try {
    await body();
  } catch (error) {
    if (res.headersSent) {
      res.destroy(error instanceof Error ? error : undefined);
      return;
    }
    const apiError =
      error instanceof GoogleApiError ? error : new GoogleApiError(500, 'INTERNAL', 'Internal error encountered.');
    sendGoogleError(res, apiError);
  }
}

/** A route handler that first checks the API key, with errors answered as Google would. */
export function authenticated(context: EmulatorContext, handler: (route: RouteContext) => Promise<void>) {
  return (route: RouteContext): Promise<void> =>
    answerGoogleErrors(route.res, async () => {
      context.authenticate(route.req, route.url);
      await handler(route);
    });
}

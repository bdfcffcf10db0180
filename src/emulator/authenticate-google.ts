import type { IncomingMessage } from 'node:http';
import { GoogleApiError } from './google-error.js';

/**
 * API-key check of generativelanguage.googleapis.com: the key comes in `x-goog-api-key` or
 * `?key=`. Missing → 403 PERMISSION_DENIED; wrong → 400 INVALID_ARGUMENT with ErrorInfo reason
 * API_KEY_INVALID. `expected === null` turns the check off.
 */
export function authenticateGoogle(req: IncomingMessage, url: URL, expected: string | null): void {
  if (expected === null) return;
  const header = req.headers['x-goog-api-key'];
  const key = (Array.isArray(header) ? header[0] : header) ?? url.searchParams.get('key') ?? undefined;
  if (key === undefined || key === '') {
    throw new GoogleApiError(
      403,
      'PERMISSION_DENIED',
      "Method doesn't allow unregistered callers (callers without established identity). Please use API Key or other form of API consumer identity to call this API.",
    );
  }
  if (key !== expected) {
    const message = 'API key not valid. Please pass a valid API key.';
    throw new GoogleApiError(400, 'INVALID_ARGUMENT', message, [
      {
        '@type': 'type.googleapis.com/google.rpc.ErrorInfo',
        reason: 'API_KEY_INVALID',
        domain: 'googleapis.com',
        metadata: { service: 'generativelanguage.googleapis.com' },
      },
      { '@type': 'type.googleapis.com/google.rpc.LocalizedMessage', locale: 'en-US', message },
    ]);
  }
}

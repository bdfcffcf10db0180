import { sendJson } from './google-error.js';
import type { EmulatorServices } from './emulator-services.js';
import { parseJsonBody, readBody } from './read-body.js';
import type { RequestLogFilter } from './request-log.js';
import type { Route } from './route.js';

/**
 * Emulator-only endpoints, no auth, never counted in the request log:
 * `GET /healthz`, `GET /emulator/requests?route=&model=&status=&fault=&promptHash=&limit=`,
 * `DELETE /emulator/requests` (clear), `GET /emulator/stats`, `GET|POST /emulator/knobs`.
 */
export const INSPECTION_ROUTE_PREFIX = 'emulator.';

export function createInspectionRoutes(services: EmulatorServices): Route[] {
  return [
    {
      method: 'GET',
      pattern: /^\/healthz$/,
      name: 'emulator.healthz',
      handle: async ({ res }) => sendJson(res, 200, { status: 'ok' }),
    },
    {
      method: 'GET',
      pattern: /^\/emulator\/requests$/,
      name: 'emulator.requests',
      handle: async ({ res, url }) => {
        const query = url.searchParams;
        const filter: RequestLogFilter = {};
        for (const key of ['route', 'model', 'fault', 'promptHash', 'method'] as const) {
          const value = query.get(key);
          if (value !== null) filter[key] = value;
        }
        const status = query.get('status');
        if (status !== null) filter.status = Number(status);
        const entries = services.requestLog.list(filter);
        const limit = Number(query.get('limit') ?? '1000');
        sendJson(res, 200, { count: entries.length, entries: entries.slice(-Math.max(0, limit)) });
      },
    },
    {
      method: 'DELETE',
      pattern: /^\/emulator\/requests$/,
      name: 'emulator.requests.clear',
      handle: async ({ res }) => {
        services.requestLog.clear();
        sendJson(res, 200, {});
      },
    },
    {
      method: 'GET',
      pattern: /^\/emulator\/stats$/,
      name: 'emulator.stats',
      handle: async ({ res }) => sendJson(res, 200, services.requestLog.stats()),
    },
    {
      method: 'GET',
      pattern: /^\/emulator\/knobs$/,
      name: 'emulator.knobs',
      handle: async ({ res }) => sendJson(res, 200, services.knobs()),
    },
    {
      method: 'POST',
      pattern: /^\/emulator\/knobs$/,
      name: 'emulator.knobs.set',
      handle: async ({ req, res }) => {
        const partial = parseJsonBody(await readBody(req));
        try {
          services.setKnobs(partial as never);
        } catch (error) {
          sendJson(res, 400, { error: { code: 400, message: error instanceof Error ? error.message : String(error), status: 'INVALID_ARGUMENT' } });
          return;
        }
        sendJson(res, 200, services.knobs());
      },
    },
  ];
}

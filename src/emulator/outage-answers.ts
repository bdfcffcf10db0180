import type { ServerResponse } from 'node:http';
import { GoogleApiError } from './google-error.js';
import type { EmulatorKnobs } from './knobs.js';

/**
 * What the two whole-project failures look like on the wire, for the `precondition` and
 * `gateway-403` faults and the `outage` knob:
 * - precondition: the API's own 400 FAILED_PRECONDITION envelope, as sent to a project in a region
 *   the API does not serve (billing switched off answers the same way with another message).
 * - gateway-403: not the API at all: a corporate proxy, WAF or API gateway in front of it answers
 *   403 with an HTML page. No JSON envelope, no Google headers.
 */
export const PRECONDITION_MESSAGE = 'User location is not supported for the API use.';

export function preconditionError(): GoogleApiError {
  return new GoogleApiError(400, 'FAILED_PRECONDITION', PRECONDITION_MESSAGE);
}

export const GATEWAY_403_PAGE =
  '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>403 Forbidden</title>' +
  '<style>body{font-family:sans-serif;margin:4em}h1{color:#b00}</style></head>\n' +
  '<body><h1>403 Forbidden</h1><p>Access to generativelanguage.googleapis.com is denied by the egress policy of this network.</p>' +
  '<p>Reference: emulated-gateway</p></body></html>\n';

export function sendGatewayPage(res: ServerResponse): void {
  res.writeHead(403, {
    'content-type': 'text/html; charset=UTF-8',
    'content-length': String(Buffer.byteLength(GATEWAY_403_PAGE)),
    server: 'emulated-gateway',
  });
  res.end(GATEWAY_403_PAGE);
}

/**
 * For routes outside the generation engine (models.get/list). A gateway stands in front of the
 * key check, so its page is sent before authentication (true when sent); a precondition is the
 * API's own answer about an identified project, so it is thrown after the key check.
 */
export function answerGatewayOutage(knobs: EmulatorKnobs, res: ServerResponse): boolean {
  if (knobs.outage !== 'gateway-403') return false;
  sendGatewayPage(res);
  return true;
}

export function throwPreconditionOutage(knobs: EmulatorKnobs): void {
  if (knobs.outage === 'precondition') throw preconditionError();
}

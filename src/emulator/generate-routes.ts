import { deliverResponse } from './deliver-response.js';
import type { EmulatorServices } from './emulator-services.js';
import { requestAnnotationOf } from './generation-engine.js';
import { readKnobOverrides } from './knob-overrides-header.js';
import { jsonBody } from './json-body.js';
import { mergeKnobs } from './knobs.js';
import { sendGatewayPage } from './outage-answers.js';
import { parseJsonBody, readBody } from './read-body.js';
import type { Route, RouteContext } from './route.js';

/**
 * `POST /{v1beta|v1}/models/{model}:generateContent` and `:streamGenerateContent` (the stream
 * answers the whole response as one SSE event with `?alt=sse`, else as a one-element JSON array).
 * Auth: x-goog-api-key or ?key=. Errors: the Google error envelope, status = HTTP code. A
 * gateway outage (`outage: "gateway-403"`) answers its HTML page before the key is even checked.
 */
export function createGenerateRoutes(services: EmulatorServices): Route[] {
  return [
    {
      method: 'POST',
      pattern: /^\/(v1beta|v1)\/models\/([^/:]+):generateContent$/,
      name: 'generateContent',
      handle: (context) => handleGenerate(services, context, 'unary'),
    },
    {
      method: 'POST',
      pattern: /^\/(v1beta|v1)\/models\/([^/:]+):streamGenerateContent$/,
      name: 'streamGenerateContent',
      handle: (context) => handleGenerate(services, context, 'stream'),
    },
  ];
}

async function handleGenerate(services: EmulatorServices, { req, res, url, params }: RouteContext, mode: 'unary' | 'stream'): Promise<void> {
  const [apiVersion = 'v1beta', model = ''] = params;
  const overrides = readKnobOverrides(req);
  const knobs = overrides ? mergeKnobs(services.knobs(), overrides) : services.knobs();
  if (knobs.outage === 'gateway-403') {
    // Drained first, so the client is not cut off mid-upload before it can read the page.
    await readBody(req).catch(() => undefined);
    sendGatewayPage(res);
    services.requestLog.annotate(req, { fault: 'gateway-403' });
    return;
  }
  services.authenticate(req, url);
  const body = parseJsonBody(await readBody(req));
  const result = await services.engine.run(decodeURIComponent(model), body, { transport: true, overrides, apiVersion });
  services.requestLog.annotate(req, requestAnnotationOf(result));
  if (!result.outcome.ok) {
    const error = result.outcome.error;
    await deliverResponse(res, result.transport, { status: error.httpStatus, body: JSON.stringify(error.toBody()), headers: error.headers }, services.shutdown);
    return;
  }
  if (mode === 'stream') {
    const json = JSON.stringify(result.outcome.response);
    const sse = url.searchParams.get('alt') === 'sse';
    const answer = sse ? { status: 200, body: `data: ${json}\r\n\r\n`, contentType: 'text/event-stream' } : { status: 200, body: `[${json}]` };
    await deliverResponse(res, result.transport, answer, services.shutdown);
    return;
  }
  await deliverResponse(res, result.transport, { status: 200, body: jsonBody(result.outcome.response) }, services.shutdown);
}

import type { EmulatorServices } from './emulator-services.js';
import { listPage } from './files/list-page.js';
import { sendJson } from './google-error.js';
import { readKnobOverrides } from './knob-overrides-header.js';
import { mergeKnobs, type EmulatorKnobs } from './knobs.js';
import { modelResource } from './model-resource.js';
import { answerGatewayOutage, throwPreconditionOutage } from './outage-answers.js';
import { readBody } from './read-body.js';
import type { Route, RouteContext } from './route.js';
import { IMAGE_MODELS, findImageModel } from '../gemini/model-catalog.js';
import { modelNotFound } from './validate-generate-request.js';

/**
 * models.get and models.list for the image models of the model catalog:
 *   GET /{v1beta|v1}/models/{model}                 → Model resource (`models/<id>`, displayName,
 *                                                     supportedGenerationMethods, token limits, ...)
 *   GET /{v1beta|v1}/models?pageSize=&pageToken=    → {models:[Model], nextPageToken?}
 *                                                     (pageSize default 50, at most 1000)
 * Auth as generateContent (missing key 403, wrong key 400 API_KEY_INVALID). Unknown model → 404
 * NOT_FOUND envelope. The `outage` knob answers as that outage would: a gateway page before the
 * key check, FAILED_PRECONDITION after it.
 */
const LIST_DEFAULT_PAGE = 50;
const LIST_MAX_PAGE = 1000;
const MODEL_ENTRIES = Object.values(IMAGE_MODELS);

export function createModelRoutes(services: EmulatorServices): Route[] {
  return [
    {
      method: 'GET',
      pattern: /^\/(v1beta|v1)\/models\/([^/:]+)$/,
      name: 'getModel',
      handle: async (context) => {
        const [apiVersion = 'v1beta', encoded = ''] = context.params;
        if (!(await admit(services, context))) return;
        const id = decodeURIComponent(encoded);
        const model = findImageModel(id);
        if (!model) throw modelNotFound(id, apiVersion, 'GetModel');
        services.requestLog.annotate(context.req, { model: model.id });
        sendJson(context.res, 200, modelResource(model));
      },
    },
    {
      method: 'GET',
      pattern: /^\/(v1beta|v1)\/models$/,
      name: 'listModels',
      handle: async (context) => {
        if (!(await admit(services, context))) return;
        const page = listPage(MODEL_ENTRIES, context.url, LIST_DEFAULT_PAGE, LIST_MAX_PAGE);
        const body: { models: unknown[]; nextPageToken?: string } = { models: page.items.map(modelResource) };
        if (page.nextPageToken !== undefined) body.nextPageToken = page.nextPageToken;
        sendJson(context.res, 200, body);
      },
    },
  ];
}

/** Gateway outage, key check, precondition outage, in the order a real request meets them. False when answered. */
async function admit(services: EmulatorServices, { req, res, url }: RouteContext): Promise<boolean> {
  // A GET carries no body, but a client may send one anyway (the SDK sends `{}`); drain it so the
  // connection stays reusable.
  await readBody(req, 1024 * 1024);
  const overrides = readKnobOverrides(req);
  const knobs: EmulatorKnobs = overrides ? mergeKnobs(services.knobs(), overrides) : services.knobs();
  if (answerGatewayOutage(knobs, res)) {
    services.requestLog.annotate(req, { fault: 'gateway-403' });
    return false;
  }
  services.authenticate(req, url);
  if (knobs.outage === 'precondition') services.requestLog.annotate(req, { fault: 'precondition' });
  throwPreconditionOutage(knobs);
  return true;
}

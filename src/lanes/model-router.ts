import type { ModelCaller } from './model-caller.js';

/**
 * The one ModelCaller a worker hands its lanes: Gemini-native calls go to the Gemini client, and a
 * run whose job names a gateway protocol (`protocol: openai | anthropic`) goes to that protocol's
 * client, made on first use from the worker's environment (keys never travel with a run). Made
 * asynchronously, so a gateway's SDK is loaded only by a worker that meets a run needing it.
 */
export type GatewayProtocol = 'openai' | 'anthropic';

export function routeModelCalls(gemini: ModelCaller, gatewayCaller: (protocol: GatewayProtocol) => Promise<ModelCaller>): ModelCaller {
  const callers = new Map<GatewayProtocol, Promise<ModelCaller>>();
  return {
    async generateContent(model, request, options) {
      if (options.protocol === undefined) return gemini.generateContent(model, request, options);
      let caller = callers.get(options.protocol);
      if (!caller) {
        caller = gatewayCaller(options.protocol);
        callers.set(options.protocol, caller);
      }
      return (await caller).generateContent(model, request, options);
    },
  };
}

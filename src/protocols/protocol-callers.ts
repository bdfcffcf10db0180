import type { ModelCaller } from '../lanes/model-caller.js';
import { createAnthropicCaller } from './anthropic-caller.js';
import type { GatewaySettings } from './gateway-settings.js';
import { createOpenAiCaller } from './openai-caller.js';

/** The client of a gateway protocol, from the worker's settings for it. */
export function createProtocolCaller<P extends keyof GatewaySettings>(protocol: P, settings: GatewaySettings[P]): ModelCaller {
  const apiKey = settings.apiKey ?? '';
  if (protocol === 'openai') {
    const openai = settings as GatewaySettings['openai'];
    return createOpenAiCaller({ apiKey, baseUrl: openai.baseUrl, mode: openai.mode });
  }
  return createAnthropicCaller({ apiKey, baseUrl: settings.baseUrl });
}

import type { ModelCaller } from '../lanes/model-caller.js';
import type { GatewaySettings } from './gateway-settings.js';

/**
 * The client of a gateway protocol, from the worker's settings for it. The SDKs are imported here,
 * on first use: together they add ≈ 36 MB to a process that never calls a gateway.
 */
export async function createProtocolCaller<P extends keyof GatewaySettings>(protocol: P, settings: GatewaySettings[P]): Promise<ModelCaller> {
  const apiKey = settings.apiKey ?? '';
  if (protocol === 'openai') {
    const openai = settings as GatewaySettings['openai'];
    const { createOpenAiCaller } = await import('./openai-caller.js');
    return createOpenAiCaller({ apiKey, baseUrl: openai.baseUrl, mode: openai.mode });
  }
  const { createAnthropicCaller } = await import('./anthropic-caller.js');
  return createAnthropicCaller({ apiKey, baseUrl: settings.baseUrl });
}

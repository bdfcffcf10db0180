import type { GatewaySettings } from './gateway-settings.js';

/** The emulator's OpenAI- and Claude-compatible endpoints as gateway settings (demo, tests). */
export function emulatorGateways(emulatorUrl: string, apiKey: string, openaiMode: 'images' | 'chat' = 'images'): GatewaySettings {
  return {
    openai: { baseUrl: `${emulatorUrl}/v1`, apiKey, mode: openaiMode },
    anthropic: { baseUrl: emulatorUrl, apiKey },
  };
}

/**
 * Where a worker sends runs whose job names a gateway protocol, read from its environment
 * (cli/resolve-settings.ts): base URL and key per protocol, and whether the OpenAI-compatible
 * gateway returns images from the Images API or from chat completions.
 */
export interface GatewaySettings {
  openai: { baseUrl: string | undefined; apiKey: string | undefined; mode: 'images' | 'chat' };
  anthropic: { baseUrl: string | undefined; apiKey: string | undefined };
}

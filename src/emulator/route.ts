import type { IncomingMessage, ServerResponse } from 'node:http';

/**
 * A route of the emulator's HTTP server. Routes are plain data so each API surface
 * (generateContent, Files, Batch, OpenAI-compatible, Claude-compatible) lives in its own file and
 * the server only concatenates lists. `params` are the capture groups of `pattern`, matched
 * against the path without its query string.
 */
export interface RouteContext {
  req: IncomingMessage;
  res: ServerResponse;
  url: URL;
  params: string[];
}

export interface Route {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE' | 'PATCH';
  pattern: RegExp;
  /** Short name used in the request log and per-route counters, e.g. `generateContent`. */
  name: string;
  handle(context: RouteContext): Promise<void>;
}

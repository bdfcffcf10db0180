import type { IncomingMessage } from 'node:http';
import type { GoogleApiError } from './google-error.js';
import type { BatchKnobs } from './batch/batch-knobs.js';

/** Result of running one generateContent request inside the emulator. */
export type GenerateOutcome =
  | { ok: true; response: Record<string, unknown> }
  | { ok: false; error: GoogleApiError };

/**
 * What the per-surface route factories (Files, Batch, ...) get from the server. The server
 * (start-emulator.ts) builds one context per running emulator.
 */
export interface EmulatorContext {
  /** Absolute base URL of the running server, e.g. `http://127.0.0.1:41234` (no trailing slash). */
  baseUrl(): string;
  /** Throws GoogleApiError (403 missing key / 400 API_KEY_INVALID) when the request is not authorised. */
  authenticate(req: IncomingMessage, url: URL): void;
  /**
   * Runs one generateContent request exactly as `:generateContent` would (validation, trigger
   * phrases, error-rate knobs, deterministic images) but without transport faults (latency, hangs,
   * connection resets, truncated bodies), which have no meaning inside a batch.
   */
  generate(model: string, request: unknown): Promise<GenerateOutcome>;
  /** Directory where this emulator keeps file bodies (uploads, batch results). Removed on close. */
  readonly dataDir: string;
  /** Milliseconds since epoch; tests may substitute a clock. */
  now(): number;
  readonly batch: BatchKnobs;
}

import type { IncomingMessage } from 'node:http';
import type { GenerationEngine } from './generation-engine.js';
import type { EmulatorKnobs, KnobsInput } from './knobs.js';
import type { RequestLog } from './request-log.js';

/** What the built-in surfaces (generateContent, OpenAI, Claude, inspection) share inside one emulator. */
export interface EmulatorServices {
  engine: GenerationEngine;
  requestLog: RequestLog;
  /** The API key requests must carry, or null when auth is off. */
  apiKey: string | null;
  /** Aborted when the emulator closes: hanging and delayed answers give up. */
  shutdown: AbortSignal;
  knobs(): EmulatorKnobs;
  setKnobs(partial: KnobsInput): void;
  authenticate(req: IncomingMessage, url: URL): void;
}

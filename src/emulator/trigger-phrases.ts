import { FAULT_NAMES, type FaultName } from './knobs.js';

/**
 * Trigger phrases: `[[emu:...]]` tokens anywhere in a prompt's text (case-insensitive) that pin
 * what happens to that one request, whatever the knobs say. Grammar:
 *
 *   [[emu:<fault>]]                 one of FAULT_NAMES, e.g. [[emu:503]], [[emu:hang]],
 *                                   [[emu:precondition]] (400 FAILED_PRECONDITION),
 *                                   [[emu:gateway-403]] (a proxy's 403 HTML page)
 *   [[emu:429:retry=<n>s]]          429 advertising this retry delay (also `retry=<n>ms`)
 *   [[emu:block=<REASON>]]          promptFeedback.blockReason other than SAFETY
 *   [[emu:latency=<n>ms]]           answer after this delay (also `<n>s`); combines with a fault
 *   [[emu:size=<W>x<H>]]            answer with an image of this size instead of the model table's
 *                                   (what a model whose real sizes differ from the table would do)
 *   [[emu:bad-json]]                a structured answer (responseJsonSchema) that leaves out
 *                                   the schema's first required property
 *   [[emu:fail-first=<N>:<fault>]]  the first N requests with the same prompt get <fault>, later
 *                                   ones succeed; <fault> may carry its own option, e.g.
 *                                   [[emu:fail-first=2:429:retry=1s]]
 *
 * Unknown tokens are ignored (the real model would just see odd text).
 */
export interface FaultSpec {
  fault: FaultName;
  /** For 429: the advertised retry delay, in ms (before timeScale). */
  retryAfterMs?: number;
  /** For block: the blockReason. */
  blockReason?: string;
}

export interface TriggerPhrases {
  fault?: FaultSpec;
  failFirst?: { count: number; spec: FaultSpec };
  latencyMs?: number;
  size?: { width: number; height: number };
  badJson?: boolean;
}

const TOKEN = /\[\[emu:([^\]]*)\]\]/gi;
const FAULTS: ReadonlySet<string> = new Set(FAULT_NAMES);

export function parseTriggerPhrases(text: string): TriggerPhrases {
  const result: TriggerPhrases = {};
  for (const match of text.matchAll(TOKEN)) {
    const body = (match[1] ?? '').trim().toLowerCase();
    if (body === 'bad-json') {
      result.badJson = true;
      continue;
    }
    const latency = /^latency=(\d+(?:\.\d+)?)(ms|s)$/.exec(body);
    if (latency) {
      result.latencyMs ??= toMs(latency[1] ?? '0', latency[2] ?? 'ms');
      continue;
    }
    const size = /^size=(\d{1,4})x(\d{1,4})$/.exec(body);
    if (size) {
      const [width, height] = [Number(size[1]), Number(size[2])];
      if (width > 0 && height > 0) result.size ??= { width, height };
      continue;
    }
    const failFirst = /^fail-first=(\d+):(.+)$/.exec(body);
    if (failFirst) {
      const spec = parseFaultSpec(failFirst[2] ?? '');
      if (spec && !result.failFirst) result.failFirst = { count: Number(failFirst[1]), spec };
      continue;
    }
    const spec = parseFaultSpec(body);
    if (spec && !result.fault) result.fault = spec;
  }
  return result;
}

/** The prompt without trigger tokens: what a caption should talk about. */
export function stripTriggerPhrases(text: string): string {
  return text.replace(TOKEN, ' ').replace(/\s+/g, ' ').trim();
}

function parseFaultSpec(body: string): FaultSpec | undefined {
  const block = /^block=([a-z_]+)$/.exec(body);
  if (block) return { fault: 'block', blockReason: (block[1] ?? 'safety').toUpperCase() };
  const retry = /^429:retry=(\d+(?:\.\d+)?)(ms|s)$/.exec(body);
  if (retry) return { fault: '429', retryAfterMs: toMs(retry[1] ?? '0', retry[2] ?? 's') };
  return FAULTS.has(body) ? { fault: body as FaultName } : undefined;
}

function toMs(value: string, unit: string): number {
  return unit === 's' ? Number(value) * 1000 : Number(value);
}

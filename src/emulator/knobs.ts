/**
 * Behaviour knobs of the emulator: latency, fault rates, quotas, payload realism. They are set at
 * start (options or a JSON profile), changed at run time (`setKnobs`, `POST /emulator/knobs`) and
 * overridden per request with the `x-emulator-knobs: <json>` header. Trigger phrases in the prompt
 * (see trigger-phrases.ts) pin the fate of one request regardless of the knobs.
 */
import { z } from 'zod';

/**
 * Every fault the emulator can inject. The same names are used in `faultRates` and in triggers.
 * New names go at the end: the order is the order rates are summed in, so a seeded run keeps
 * drawing the same faults.
 *   precondition  400 FAILED_PRECONDITION "User location is not supported for the API use."
 *   gateway-403   a 403 HTML page from a gateway/proxy/WAF in front of the API (not JSON)
 */
export const FAULT_NAMES = [
  '429',
  '500',
  '503',
  'hang',
  'reset',
  'truncate',
  'malformed',
  'text-only',
  'no-image',
  'image-safety',
  'prohibited',
  'block',
  'bad-base64',
  'precondition',
  'gateway-403',
] as const;
export type FaultName = (typeof FAULT_NAMES)[number];

/** Faults that only exist on a live HTTP exchange; a batch item ignores them. */
export const TRANSPORT_FAULTS: ReadonlySet<FaultName> = new Set(['hang', 'reset', 'truncate', 'malformed', 'gateway-403']);

/**
 * Faults that can also be a standing outage (the `outage` knob): not one unlucky request but every
 * Gemini API request, models.get included, until the knob is cleared, as when a project's region
 * stops being served or a proxy starts blocking the API.
 */
export const OUTAGE_NAMES = ['precondition', 'gateway-403'] as const satisfies readonly FaultName[];
export type OutageName = (typeof OUTAGE_NAMES)[number];

const latencySchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('fixed'), ms: z.number().min(0) }).strict(),
  z
    .object({ kind: z.literal('uniform'), minMs: z.number().min(0), maxMs: z.number().min(0) })
    .strict()
    .refine((value) => value.maxMs >= value.minMs, { message: 'maxMs must be >= minMs' }),
  z
    .object({ kind: z.literal('lognormal'), p50Ms: z.number().positive(), p99Ms: z.number().positive() })
    .strict()
    .refine((value) => value.p99Ms >= value.p50Ms, { message: 'p99Ms must be >= p50Ms' }),
]);
export type LatencyKnob = z.infer<typeof latencySchema>;

const rate = z.number().min(0).max(1);
const faultRatesSchema = z
  .object(Object.fromEntries(FAULT_NAMES.map((name) => [name, rate.optional()])) as Record<FaultName, z.ZodOptional<typeof rate>>)
  .strict()
  .refine((rates) => Object.values(rates).reduce<number>((sum, value) => sum + (value ?? 0), 0) <= 1 + 1e-9, {
    message: 'fault rates must add up to at most 1',
  });

const knobsShape = {
  /** Delay before each answer (HTTP surfaces only). */
  latency: latencySchema,
  /** Multiplies every delay: latency, RPM window, advertised retry delays. 0.01 makes tests fast. */
  timeScale: z.number().positive(),
  /** Seed of the PRNG that draws latencies and faults, so a run is reproducible. */
  seed: z.number().int(),
  /** Probability (0..1) of each fault per request; drawn once per request, at most one fault. */
  faultRates: faultRatesSchema,
  /** retryDelay advertised by injected 429s (seconds, before timeScale). */
  retryAfterSeconds: z.number().min(0),
  /** Also send an HTTP `Retry-After` header on 429s (the real API usually does not). */
  retryAfterHeader: z.boolean(),
  /** Requests per minute per model (a number applies to every model); excess gets 429. */
  requestsPerMinute: z.union([z.number().int().positive(), z.record(z.string(), z.number().int().positive())]).nullable(),
  /** Send PNGs as large as the real service does (~1.5-2 MB at 1K, ~15-20 MB at 4K). */
  realisticPayload: z.boolean(),
  /**
   * A standing outage (see OUTAGE_NAMES): generateContent, streamGenerateContent and models.get/list
   * all answer with it; batch items see `precondition` (gateway pages have no meaning inside a batch).
   */
  outage: z.enum(OUTAGE_NAMES).nullable(),
};

export const knobsSchema = z.object(knobsShape).strict();
/** Partial knobs, as written in options, profiles, `setKnobs` and the per-request header. */
export const knobsInputSchema = z.object(knobsShape).partial().strict();

export type EmulatorKnobs = Readonly<z.infer<typeof knobsSchema>>;
export type KnobsInput = z.input<typeof knobsInputSchema>;

export const DEFAULT_KNOBS: EmulatorKnobs = Object.freeze({
  latency: { kind: 'fixed', ms: 0 } as LatencyKnob,
  timeScale: 1,
  seed: 1,
  faultRates: {},
  retryAfterSeconds: 30,
  retryAfterHeader: false,
  requestsPerMinute: null,
  realisticPayload: false,
  outage: null,
});

/** Validates a partial knob set; throws a ZodError naming the bad field. */
export function parseKnobsInput(raw: unknown): z.infer<typeof knobsInputSchema> {
  return knobsInputSchema.parse(raw ?? {});
}

/** Applies partial overrides in order; `faultRates` merge per fault, everything else replaces. */
export function mergeKnobs(base: EmulatorKnobs, ...overrides: (KnobsInput | undefined)[]): EmulatorKnobs {
  let result: z.infer<typeof knobsSchema> = { ...base, faultRates: { ...base.faultRates } };
  for (const override of overrides) {
    if (!override) continue;
    const parsed = parseKnobsInput(override);
    const faultRates = parsed.faultRates ? { ...result.faultRates, ...parsed.faultRates } : result.faultRates;
    result = { ...result, ...parsed, faultRates };
  }
  return Object.freeze(knobsSchema.parse(result));
}

/** The RPM limit for one model, or undefined when unlimited. */
export function requestsPerMinuteFor(knobs: EmulatorKnobs, model: string): number | undefined {
  const rpm = knobs.requestsPerMinute;
  if (rpm === null) return undefined;
  return typeof rpm === 'number' ? rpm : rpm[model];
}

/**
 * The shape of a job file, as an operator writes it. Objects are strict so that a typo
 * (`temprature`) is an error instead of a silently ignored setting. Only shapes and ranges live
 * here; checks that need the model table or other fields (sizes, templates, durations) are in
 * `resolveJob`, which also applies the defaults.
 */
import * as z from 'zod';

const slug = z
  .string()
  .regex(/^[a-z0-9][a-z0-9_-]{0,62}$/, 'must be a slug: lowercase letters, digits, "-" and "_", up to 63 characters');
const duration = z.union([z.string(), z.number()]);
// YAML reads `imageSize: 512` as a number; the API wants the string "512".
const stringish = z.union([z.string(), z.number()]).transform(String);
const positiveInt = z.number().int().positive();

const byteSize = z.union([z.number().int().positive(), z.string()]);

/** One place reference images come from: a catalog column (a cell may list several) or a template. */
const referenceSource = z.union([
  z.string().min(1),
  z.strictObject({
    column: z.string().min(1).optional(),
    template: z.string().min(1).optional(),
    role: z.enum(['object', 'character', 'style']).optional(),
    scope: z.enum(['row', 'group']).optional(),
  }),
]);

const referencesOptions = z.strictObject({
  sources: z.array(referenceSource).min(1),
  maxBytes: byteSize.optional(),
  longestSide: z.union([z.number().int().positive(), z.literal(false)]).optional(),
  timeout: duration.optional(),
  connectTimeout: duration.optional(),
  maxRedirects: z.number().int().min(0).max(20).optional(),
  concurrency: positiveInt.max(256).optional(),
  allowHosts: z.array(z.string().min(1)).optional(),
});

const imageConfig = z.strictObject({
  aspectRatio: stringish.optional(),
  imageSize: stringish.optional(),
});

export const jobOptionsSchema = z.strictObject({
  name: slug,
  description: z.string().optional(),
  catalog: z.strictObject({
    path: z.string().min(1),
    format: z.enum(['csv', 'json', 'jsonl']).optional(),
    key: z.string().min(1),
    columns: z.record(z.string().min(1), z.string().min(1)).optional(),
    delimiter: z.string().min(1).max(4).optional(),
    forwardFill: z.array(z.string().min(1)).optional(),
    forwardFillBy: z.string().min(1).optional(),
    required: z.array(z.string().min(1)).optional(),
  }),
  model: z.string().min(1),
  system: z
    .union([z.string(), z.strictObject({ file: z.string().min(1) }), z.strictObject({ text: z.string() })])
    .optional(),
  prompt: z.string().min(1),
  variants: z
    .array(
      z.strictObject({
        name: slug,
        prompt: z.string().min(1).optional(),
        aspectRatio: stringish.optional(),
        imageSize: stringish.optional(),
        from: slug.optional(),
      }),
    )
    .min(1)
    .optional(),
  references: z.union([z.array(referenceSource).min(1), referencesOptions]).optional(),
  /** Multi-turn edits after the first prompt ("add a sprig of eucalyptus", "warmer light"): each is one more turn. */
  steps: z.array(z.union([z.string().min(1), z.strictObject({ prompt: z.string().min(1) })])).min(1).max(10).optional(),
  generation: z
    .strictObject({
      responseModalities: z.array(z.string()).min(1).optional(),
      imageConfig: imageConfig.optional(),
      temperature: z.number().min(0).max(2).optional(),
      seed: z.number().int().optional(),
      thinkingLevel: z.string().optional(),
      /** Ask for the model's thought summaries (and interim thought images); never outputs. */
      includeThoughts: z.boolean().optional(),
    })
    .optional(),
  /** Google Search grounding (Gemini-native only): web results, and image search where the model has it. */
  grounding: z.strictObject({ webSearch: z.boolean().optional(), imageSearch: z.boolean().optional() }).optional(),
  /** A structured caption: the model answers JSON that must match this JSON Schema (inline, or a file beside the job). */
  caption: z
    .strictObject({
      schema: z.union([z.record(z.string(), z.unknown()), z.strictObject({ file: z.string().min(1) })]),
    })
    .optional(),
  /** Extra files for diagnosis, under each item's debug prefix. */
  debug: z.strictObject({ thoughts: z.boolean().optional() }).optional(),
  /** What finalizing writes next to the manifest besides the summary: the run gallery (on by default). */
  report: z.strictObject({ gallery: z.boolean().optional() }).optional(),
  /** The wire protocol of the endpoint: Gemini-native (default), or a gateway's OpenAI- or Claude-compatible one. */
  protocol: z.enum(['gemini', 'openai', 'anthropic']).optional(),
  lane: z.enum(['sync', 'batch', 'auto']).optional(),
  sync: z
    .strictObject({
      concurrency: positiveInt.max(10_000).optional(),
      /** Most waiting jobs the run keeps in the shared queue; the rest wait in storage (default 10,000). */
      queueWindow: positiveInt.min(10).max(1_000_000).optional(),
      timeoutMs: duration.optional(),
      attempts: positiveInt.max(100).optional(),
      backoff: z
        .strictObject({
          initialMs: duration.optional(),
          maxMs: duration.optional(),
          jitter: z.number().min(0).max(1).optional(),
        })
        .optional(),
      requestsPerMinute: positiveInt.optional(),
      globalConcurrency: positiveInt.optional(),
    })
    .optional(),
  batch: z
    .strictObject({
      deadline: duration.optional(),
      onUnfinished: z.enum(['sync', 'batch', 'fail']).optional(),
      maxRequestsPerBatch: positiveInt.optional(),
      maxConcurrentBatches: positiveInt.optional(),
      pollInterval: duration.optional(),
    })
    .optional(),
  output: z.strictObject({
    url: z.string().min(1),
    key: z.string().min(1).optional(),
    /** With `steps`: keep the image of every turn before the last beside the output (`…~step1.png`). */
    keepSteps: z.boolean().optional(),
  }),
  pricing: z
    .strictObject({
      usdPerImage: z.number().min(0).optional(),
      batchDiscount: z.number().min(0).max(1).optional(),
    })
    .optional(),
  budget: z.strictObject({ maxUsd: z.number().positive() }).optional(),
  /** Told when a run ends (notify/): a webhook gets the signed summary. */
  notify: z
    .strictObject({
      webhook: z.strictObject({
        url: z.string(),
        /** The NAME of the environment variable holding the HMAC secret, never the secret. */
        secretEnv: z.string(),
        timeout: duration.optional(),
        attempts: positiveInt.max(10).optional(),
      }),
    })
    .optional(),
  failureThreshold: z.strictObject({ maxFailedRatio: z.number().min(0).max(1).optional() }).optional(),
  strict: z.boolean().optional(),
});

/** What users write in a job file (YAML or JSON). */
export type JobOptions = z.input<typeof jobOptionsSchema>;
export type ParsedJobOptions = z.output<typeof jobOptionsSchema>;

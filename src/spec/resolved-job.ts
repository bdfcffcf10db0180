/** A job with every default applied and every path absolute. Frozen; produced only by `resolveJob`. */
import type { RunPricing } from '../gemini/run-pricing.js';
import type { ImageSize } from '../gemini/model-catalog.js';
import type { ResponseModality, ThinkingLevel } from '../gemini/generate-content-request.js';
import type { ResolvedReferences } from '../references/resolved-references.js';

export type Lane = 'sync' | 'batch' | 'auto';
export type CatalogFormat = 'csv' | 'json' | 'jsonl';

export interface ResolvedCatalog {
  /** Absolute path. */
  readonly path: string;
  /** The path as an operator recognises it (relative to where the job file was named from); used in messages. */
  readonly displayPath: string;
  readonly format: CatalogFormat;
  /** Field (after renames) that identifies a row. */
  readonly key: string;
  /** newName → source column. */
  readonly columns: Readonly<Record<string, string>>;
  readonly delimiter: string;
  readonly forwardFill: readonly string[];
  readonly forwardFillBy: string | undefined;
  readonly required: readonly string[];
}

export interface ResolvedVariant {
  readonly name: string;
  readonly prompt: string;
  readonly aspectRatio: string;
  readonly imageSize: ImageSize;
  /** False when the model has a single size and the job did not name one: then no imageSize is sent. */
  readonly sendImageSize: boolean;
  readonly expected: { readonly width: number; readonly height: number };
  /**
   * `from: <variant>`: this variant is made image-to-image from that variant's output of the same
   * row (a 9:16 story of the hero shot). The named variant has no `from` of its own.
   */
  readonly from: string | undefined;
}

export interface ResolvedGeneration {
  readonly responseModalities: readonly ResponseModality[];
  readonly temperature: number | undefined;
  readonly seed: number | undefined;
  readonly thinkingLevel: ThinkingLevel | undefined;
  readonly includeThoughts: boolean;
}

export type Protocol = 'gemini' | 'openai' | 'anthropic';

export interface ResolvedSyncSettings {
  readonly concurrency: number;
  readonly timeoutMs: number;
  /** Counts every call, rate-limit re-queues included. */
  readonly attempts: number;
  readonly backoff: { readonly initialMs: number; readonly maxMs: number; readonly jitter: number };
  readonly requestsPerMinute: number | undefined;
  readonly globalConcurrency: number | undefined;
  /** Most waiting jobs in the shared queue before planned items wait in storage instead. */
  readonly queueWindow: number;
}

export interface ResolvedBatchSettings {
  readonly deadlineMs: number;
  readonly onUnfinished: 'sync' | 'batch' | 'fail';
  readonly maxRequestsPerBatch: number;
  readonly maxConcurrentBatches: number;
  readonly pollIntervalMs: number;
}

export type ResolvedOutput =
  | { readonly kind: 's3'; readonly url: string; readonly bucket: string; readonly prefix: string; readonly key: string; readonly keepSteps?: boolean }
  | { readonly kind: 'file'; readonly url: string; readonly dir: string; readonly key: string; readonly keepSteps?: boolean };

export interface ResolvedJob {
  readonly name: string;
  readonly description: string | undefined;
  /** The job file as named by the caller, and its absolute directory. */
  readonly source: { readonly file: string; readonly dir: string };
  readonly catalog: ResolvedCatalog;
  /** Bare model id (`models/` prefix removed), one of IMAGE_MODELS. */
  readonly model: string;
  /** systemInstruction text, if any. */
  readonly system: string | undefined;
  readonly prompt: string;
  /** At least one; `main` when the job names none. */
  readonly variants: readonly ResolvedVariant[];
  /** Reference images sent with every request of a row; undefined when the job names none. */
  readonly references: ResolvedReferences | undefined;
  /** Prompt templates of the edit turns after the first prompt (multi-turn); empty when there are none. */
  readonly steps: readonly string[];
  readonly generation: ResolvedGeneration;
  /** Google Search grounding; undefined when the job asks for none. */
  readonly grounding: { readonly webSearch: boolean; readonly imageSearch: boolean } | undefined;
  /** A JSON Schema the caption must match (sent as responseJsonSchema, validated on arrival). */
  readonly caption: { readonly schema: Readonly<Record<string, unknown>> } | undefined;
  readonly debug: { readonly thoughts: boolean };
  /** report.gallery: write the run gallery at finalize (default true). */
  readonly report: { readonly gallery: boolean };
  readonly protocol: Protocol;
  readonly lane: Lane;
  readonly sync: ResolvedSyncSettings;
  readonly batch: ResolvedBatchSettings;
  readonly output: ResolvedOutput;
  readonly pricing: Readonly<RunPricing>;
  readonly budget: { readonly maxUsd: number } | undefined;
  /** A webhook told when a run ends; the secret stays in the workers' environment. */
  readonly notify: { readonly webhook: WebhookSettings } | undefined;
  readonly failureThreshold: { readonly maxFailedRatio: number };
  readonly strict: boolean;
}

export interface WebhookSettings {
  readonly url: string;
  readonly secretEnv: string;
  readonly timeoutMs: number;
  readonly attempts: number;
}

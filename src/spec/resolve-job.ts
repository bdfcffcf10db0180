import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type * as z from 'zod';
import {
  DEFAULT_ASPECT_RATIO,
  DEFAULT_IMAGE_SIZE,
  IMAGE_MODELS,
  findImageModel,
  isImageSize,
  outputPixels,
  type ImageModelInfo,
} from '../gemini/model-catalog.js';
import { isBunchError } from '../errors/bunch-error.js';
import type { RunPricing } from '../gemini/run-pricing.js';
import { usdPerImage } from '../gemini/usage-cost.js';
import type { ResponseModality, ThinkingLevel } from '../gemini/generate-content-request.js';
import { compileTemplate } from './render-template.js';
import { checkObjectKeyTemplate, DEFAULT_OBJECT_KEY_TEMPLATE } from './check-object-key-template.js';
import type { FieldPath, JobSource } from './job-source.js';
import { findSecretField } from './find-secret-field.js';
import { jobFileError } from './job-file-error.js';
import { jobOptionsSchema, type ParsedJobOptions } from './job-options-schema.js';
import type { ResolvedReferences, ResolvedReferenceSource } from '../references/resolved-references.js';
import { parseByteSize } from './parse-byte-size.js';
import { parseDuration } from './parse-duration.js';
import { firstNativeOnlyUse, nativeOnlyMessage, uncarriedSampling } from './capability-checks.js';
import { jsonSchemaProblem } from '../gemini/response-json-schema.js';
import { DEFAULT_REFERENCE_FETCH_LIMITS } from '../references/reference-fetch-options.js';
import { defaultReferenceLongestSide } from '../references/default-longest-side.js';
import type {
  CatalogFormat,
  ResolvedBatchSettings,
  ResolvedCatalog,
  ResolvedJob,
  ResolvedOutput,
  ResolvedSyncSettings,
  ResolvedVariant,
  Protocol,
} from './resolved-job.js';

function isSchemaFile(schema: Record<string, unknown> | { file: string }): schema is { file: string } {
  return Object.keys(schema).length === 1 && typeof schema['file'] === 'string';
}

/** Defaults, in one place so docs/job-file.md can be checked against them. */
export const JOB_DEFAULTS = Object.freeze({
  lane: 'sync',
  variant: 'main',
  responseModalities: ['IMAGE', 'TEXT'] as const,
  sync: { concurrency: 8, queueWindow: 10_000, timeoutMs: 35_000, attempts: 5, backoff: { initialMs: 2_000, maxMs: 60_000, jitter: 0.5 } },
  batch: { deadline: '24h', onUnfinished: 'sync', maxRequestsPerBatch: 1000, maxConcurrentBatches: 10, pollInterval: '30s' },
  // Without `pricing.usdPerImage`, calls are priced by the model table (what Google bills).
  pricing: { batchDiscount: 0.5 },
  maxFailedRatio: 0.02,
  references: { concurrency: 8 },
});

const THINKING_LEVELS: readonly ThinkingLevel[] = ['MINIMAL', 'LOW', 'MEDIUM', 'HIGH'];
const MODALITIES: readonly ResponseModality[] = ['IMAGE', 'TEXT'];

/**
 * Validates a parsed job definition and resolves it: defaults applied, paths made absolute
 * against the job file's directory, templates compiled, image settings checked against the model.
 * Pure apart from path arithmetic; `system: { file }` needs `source.systemFileText` (loadJobFile
 * reads it). Every problem throws `E_JOB_FILE` naming file, line (when known) and field.
 */
export function resolveJob(raw: unknown, source: JobSource): ResolvedJob {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw jobFileError(source, [], 'a job file must contain one object (name, catalog, model, prompt, output, ...)');
  }
  const secret = findSecretField(raw);
  if (secret) {
    throw jobFileError(
      source,
      secret,
      'secrets never live in job files; API keys and storage credentials come from the environment',
    );
  }
  // reportInput: an issue then carries the value it is about, so a field present with the wrong
  // type is told from a missing one (before, both read "is required").
  const parsed = jobOptionsSchema.safeParse(raw, { reportInput: true });
  if (!parsed.success) throw zodIssueError(source, parsed.error.issues);
  return new JobResolver(parsed.data, source).resolve();
}

function zodIssueError(source: JobSource, issues: readonly z.core.$ZodIssue[]) {
  const issue = issues[0];
  if (!issue) return jobFileError(source, [], 'invalid job file');
  const issuePath = issue.path.filter((segment): segment is string | number => typeof segment !== 'symbol');
  const more = issues.length > 1 ? ` (and ${issues.length - 1} more problem${issues.length > 2 ? 's' : ''})` : '';
  if (issue.code === 'unrecognized_keys') {
    const key = issue.keys[0] ?? '';
    return jobFileError(source, [...issuePath, key], `unknown field "${key}"${more}`);
  }
  return jobFileError(source, issuePath, `${issueMessage(issue)}${more}`);
}

/** "is required" for a missing field; "expected …, got …" for a present one of the wrong type. */
function issueMessage(issue: z.core.$ZodIssue): string {
  if (issue.code === 'invalid_type') {
    if (issue.input === undefined) return 'is required';
    return `expected ${kindName(issue.expected)}, got ${shownValue(issue.input)}`;
  }
  if (issue.code === 'invalid_union' && issue.input !== undefined) {
    const expected = [...new Set(issue.errors.flatMap((branch) => branch.flatMap((inner) => (inner.code === 'invalid_type' && inner.path.length === 0 ? [inner.expected] : []))))];
    if (expected.length > 0) return `expected ${expected.map(kindName).join(' or ')}, got ${shownValue(issue.input)}`;
  }
  return issue.message;
}

const KIND_NAMES: Record<string, string> = { int: 'a whole number', array: 'a list', object: 'a mapping', boolean: 'true or false', string: 'text' };

function kindName(expected: string): string {
  return KIND_NAMES[expected] ?? `a ${expected}`;
}

function shownValue(value: unknown): string {
  if (Array.isArray(value)) return 'a list';
  if (value === null) return 'null';
  if (typeof value === 'object') return 'a mapping';
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 40 ? `${text.slice(0, 40)}…` : text;
}

class JobResolver {
  private readonly dir: string;

  constructor(
    private readonly options: ParsedJobOptions,
    private readonly source: JobSource,
  ) {
    this.dir = path.resolve(path.dirname(source.file));
  }

  resolve(): ResolvedJob {
    const options = this.options;
    const modelInfo = this.model();
    const catalog = this.catalog();
    const variants = this.variants(modelInfo);
    const job: ResolvedJob = {
      name: options.name,
      description: options.description,
      source: { file: this.source.file, dir: this.dir },
      catalog,
      model: modelInfo.id,
      system: this.system(),
      prompt: this.template(options.prompt, ['prompt']),
      variants,
      references: this.references(modelInfo, catalog),
      steps: this.steps(),
      generation: {
        responseModalities: this.modalities(),
        temperature: options.generation?.temperature,
        seed: options.generation?.seed,
        thinkingLevel: this.thinkingLevel(modelInfo),
        includeThoughts: this.includeThoughts(modelInfo),
      },
      grounding: this.grounding(modelInfo),
      caption: this.caption(),
      debug: { thoughts: this.debugThoughts() },
      report: { gallery: this.options.report?.gallery ?? true },
      protocol: this.protocol(),
      lane: options.lane ?? 'sync',
      sync: this.sync(),
      batch: this.batch(),
      output: this.output(catalog.key, variants.length),
      pricing: this.pricing(modelInfo, variants),
      budget: options.budget ? { maxUsd: options.budget.maxUsd } : undefined,
      notify: this.notify(),
      failureThreshold: { maxFailedRatio: options.failureThreshold?.maxFailedRatio ?? JOB_DEFAULTS.maxFailedRatio },
      strict: options.strict ?? false,
    };
    return deepFreeze(job);
  }

  /** A flat price per request when the job names one (a gateway's price), else the model table's rates. */
  private pricing(model: ImageModelInfo, variants: readonly ResolvedVariant[]): RunPricing {
    const batchDiscount = this.options.pricing?.batchDiscount ?? model.pricing.batchDiscount;
    const flat = this.options.pricing?.usdPerImage;
    if (flat !== undefined) return { usdPerImage: flat, batchDiscount };
    const byVariant = Object.fromEntries(variants.map((variant) => [variant.name, usdPerImage(model.id, variant.imageSize) ?? 0]));
    return {
      usdPerImage: byVariant[variants[0]?.name ?? ''] ?? 0,
      batchDiscount,
      byVariant,
      tokens: { input: model.pricing.usdPerMillionInputTokens, text: model.pricing.usdPerMillionTextTokens },
    };
  }

  private notify(): ResolvedJob['notify'] {
    const webhook = this.options.notify?.webhook;
    if (!webhook) return undefined;
    let url: URL | undefined;
    try {
      url = new URL(webhook.url);
    } catch {
      url = undefined;
    }
    if (!url || (url.protocol !== 'https:' && url.protocol !== 'http:')) this.fail(['notify', 'webhook', 'url'], 'must be an http(s) URL');
    if (url.username || url.password) this.fail(['notify', 'webhook', 'url'], 'may not carry a user name or password (it would be stored with the run)');
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(webhook.secretEnv)) {
      this.fail(['notify', 'webhook', 'secretEnv'], 'must name an environment variable (letters, digits, _), not hold the secret itself');
    }
    const timeoutMs = this.duration(webhook.timeout, '10s', ['notify', 'webhook', 'timeout'], 100);
    // The finalize job waits for the webhook: attempts × timeout must stay a bounded wait (invariant 10).
    if (timeoutMs > 60_000) this.fail(['notify', 'webhook', 'timeout'], 'must be at most 60s (the finalizing worker waits for the answer)');
    return {
      webhook: {
        url: url.href,
        secretEnv: webhook.secretEnv,
        timeoutMs,
        attempts: webhook.attempts ?? 3,
      },
    };
  }

  private fail(field: FieldPath, message: string): never {
    throw jobFileError(this.source, field, message);
  }

  private model(): ImageModelInfo {
    const info = findImageModel(this.options.model);
    if (!info) {
      this.fail(['model'], `"${this.options.model}" is not a known image model (${Object.keys(IMAGE_MODELS).join(', ')})`);
    }
    return info;
  }

  private catalog(): ResolvedCatalog {
    const catalog = this.options.catalog;
    const absolute = path.resolve(this.dir, catalog.path);
    const format = catalog.format ?? this.formatFromExtension(absolute);
    if (catalog.delimiter !== undefined && format !== 'csv') {
      this.fail(['catalog', 'delimiter'], `only applies to csv catalogs (this one is ${format})`);
    }
    const delimiter = catalog.delimiter ?? (path.extname(absolute).toLowerCase() === '.tsv' ? '\t' : ',');
    if (delimiter.includes('"') || /[\r\n]/.test(delimiter)) {
      this.fail(['catalog', 'delimiter'], 'must not contain quotes or line breaks');
    }
    const targets = Object.keys(catalog.columns ?? {});
    const sources = Object.values(catalog.columns ?? {});
    if (new Set(sources).size !== sources.length) {
      this.fail(['catalog', 'columns'], 'maps the same source column twice');
    }
    if (targets.includes('key') || targets.includes('variant')) {
      this.fail(['catalog', 'columns'], '"key" and "variant" are reserved template names; pick another field name');
    }
    return {
      path: absolute,
      displayPath: path.isAbsolute(catalog.path) ? catalog.path : path.join(path.dirname(this.source.file), catalog.path),
      format,
      key: catalog.key,
      columns: { ...(catalog.columns ?? {}) },
      delimiter,
      forwardFill: [...(catalog.forwardFill ?? [])],
      forwardFillBy: catalog.forwardFillBy,
      required: [...(catalog.required ?? [])],
    };
  }

  private formatFromExtension(file: string): CatalogFormat {
    const extension = path.extname(file).toLowerCase();
    if (extension === '.csv' || extension === '.tsv') return 'csv';
    if (extension === '.json') return 'json';
    if (extension === '.jsonl' || extension === '.ndjson') return 'jsonl';
    this.fail(['catalog', 'path'], `cannot tell the format from "${extension || 'no extension'}"; set catalog.format (csv, json, jsonl)`);
  }

  private system(): string | undefined {
    const system = this.options.system;
    if (system === undefined) return undefined;
    if (typeof system === 'string') return system.trimEnd();
    if ('text' in system) return system.text.trimEnd();
    if (this.source.systemFileText === undefined) {
      this.fail(['system', 'file'], 'was not read; load job files with loadJobFile');
    }
    return this.source.systemFileText.trimEnd();
  }

  private template(text: string, field: FieldPath): string {
    try {
      compileTemplate(text);
    } catch (error) {
      if (isBunchError(error)) this.fail(field, error.message);
      throw error;
    }
    // YAML block scalars (`prompt: |`) end in a newline the operator did not mean to send.
    return text.trimEnd();
  }

  private variants(model: ImageModelInfo): ResolvedVariant[] {
    const options = this.options;
    const baseConfig = options.generation?.imageConfig;
    const list = options.variants ?? [{ name: JOB_DEFAULTS.variant }];
    const seen = new Set<string>();
    const resolved = list.map((variant, index) => {
      if (seen.has(variant.name)) this.fail(['variants', index, 'name'], `"${variant.name}" is used twice`);
      seen.add(variant.name);
      const prompt = variant.prompt === undefined ? this.template(options.prompt, ['prompt']) : this.template(variant.prompt, ['variants', index, 'prompt']);
      const ratioField: FieldPath =
        'aspectRatio' in variant && variant.aspectRatio !== undefined
          ? ['variants', index, 'aspectRatio']
          : ['generation', 'imageConfig', 'aspectRatio'];
      const sizeField: FieldPath =
        'imageSize' in variant && variant.imageSize !== undefined
          ? ['variants', index, 'imageSize']
          : ['generation', 'imageConfig', 'imageSize'];
      const aspectRatio = ('aspectRatio' in variant ? variant.aspectRatio : undefined) ?? baseConfig?.aspectRatio ?? DEFAULT_ASPECT_RATIO;
      const namedSize = ('imageSize' in variant ? variant.imageSize : undefined) ?? baseConfig?.imageSize;
      const imageSize = namedSize ?? (model.imageSizes.length === 1 ? model.imageSizes[0] : undefined) ?? DEFAULT_IMAGE_SIZE;
      if (!model.aspectRatios.includes(aspectRatio)) {
        this.fail(ratioField, `"${aspectRatio}" is not an aspect ratio ${model.id} offers (${model.aspectRatios.join(', ')})`);
      }
      if (!isImageSize(imageSize) || !model.imageSizes.includes(imageSize)) {
        this.fail(sizeField, `"${imageSize}" is not a size ${model.id} offers (${model.imageSizes.join(', ')})`);
      }
      const expected = outputPixels(model, aspectRatio, imageSize);
      if (!expected) this.fail(sizeField, `${model.id} has no output size for ${aspectRatio} at ${imageSize}`);
      return {
        name: variant.name,
        prompt,
        aspectRatio,
        imageSize,
        sendImageSize: namedSize !== undefined || model.imageSizes.length > 1,
        expected,
        from: 'from' in variant ? variant.from : undefined,
      };
    });
    for (const [index, variant] of resolved.entries()) {
      if (variant.from === undefined) continue;
      const heroIndex = resolved.findIndex((other) => other.name === variant.from);
      const hero = resolved[heroIndex];
      if (!hero) this.fail(['variants', index, 'from'], `names "${variant.from}", which is not a variant of this job (${resolved.map((v) => v.name).join(', ')})`);
      if (hero === variant) this.fail(['variants', index, 'from'], 'a variant cannot be made from itself');
      if (heroIndex > index) this.fail(['variants', index, 'from'], `list "${hero.name}" before the variants made from it`);
      if (hero.from !== undefined) {
        this.fail(['variants', index, 'from'], `"${hero.name}" is itself made from "${hero.from}"; name a variant generated from the prompt alone`);
      }
    }
    return resolved;
  }

  private references(model: ImageModelInfo, catalog: ResolvedCatalog): ResolvedReferences | undefined {
    const options = this.options.references;
    if (options === undefined) return undefined;
    const settings = Array.isArray(options) ? { sources: options } : options;
    const base: (string | number)[] = Array.isArray(options) ? ['references'] : ['references', 'sources'];
    const sources = settings.sources.map((source, index): ResolvedReferenceSource => {
      const field = [...base, index];
      if (typeof source === 'string') return { column: source, template: undefined, role: 'object', scope: 'row' };
      if ((source.column === undefined) === (source.template === undefined)) {
        this.fail(field, 'needs exactly one of `column` (a catalog field holding image locations) or `template`');
      }
      if (source.template !== undefined) this.template(source.template, [...field, 'template']);
      const scope = source.scope ?? 'row';
      if (scope === 'group') {
        if (source.column === undefined) this.fail([...field, 'scope'], '`scope: group` collects a column across a group; it needs `column`');
        if (catalog.forwardFillBy === undefined) {
          this.fail([...field, 'scope'], '`scope: group` needs catalog.forwardFillBy (the column that groups rows of one product, e.g. Handle)');
        }
      }
      return { column: source.column, template: source.template, role: source.role ?? 'object', scope };
    });
    const object: Exclude<NonNullable<ParsedJobOptions['references']>, unknown[]> = Array.isArray(options) ? { sources: options } : options;
    const limits = DEFAULT_REFERENCE_FETCH_LIMITS;
    let maxBytes = limits.maxBytes;
    if (object.maxBytes !== undefined) {
      const parsed = parseByteSize(object.maxBytes);
      if (parsed === undefined) this.fail(['references', 'maxBytes'], `"${String(object.maxBytes)}" is not a size (e.g. 20MB, 512KB, or bytes)`);
      maxBytes = parsed;
    }
    for (const [index, entry] of (object.allowHosts ?? []).entries()) {
      if (/[\s/?#@]/.test(entry.replace(/\/\d{1,3}$/, ''))) {
        this.fail(['references', 'allowHosts', index], `"${entry}" is not a host name, IP address or CIDR range`);
      }
    }
    return {
      sources,
      limits: {
        maxBytes,
        connectTimeoutMs: this.duration(object.connectTimeout, limits.connectTimeoutMs, ['references', 'connectTimeout'], 1),
        timeoutMs: this.duration(object.timeout, limits.timeoutMs, ['references', 'timeout'], 1),
        maxRedirects: object.maxRedirects ?? limits.maxRedirects,
      },
      longestSide: object.longestSide === false ? undefined : (object.longestSide ?? defaultReferenceLongestSide(model.id)),
      concurrency: object.concurrency ?? JOB_DEFAULTS.references.concurrency,
      allowHosts: [...(object.allowHosts ?? [])],
      baseDir: path.dirname(catalog.path),
    };
  }

  private modalities(): ResponseModality[] {
    const named = this.options.generation?.responseModalities;
    if (named === undefined) return [...JOB_DEFAULTS.responseModalities];
    const result: ResponseModality[] = [];
    for (const [index, value] of named.entries()) {
      const upper = value.toUpperCase() as ResponseModality;
      if (!MODALITIES.includes(upper)) {
        this.fail(['generation', 'responseModalities', index], `"${value}" is not a modality (IMAGE, TEXT)`);
      }
      if (!result.includes(upper)) result.push(upper);
    }
    return result;
  }

  private steps(): string[] {
    const steps = this.options.steps ?? [];
    const texts = steps.map((step, index) =>
      this.template(typeof step === 'string' ? step : step.prompt, typeof step === 'string' ? ['steps', index] : ['steps', index, 'prompt']),
    );
    if (texts.length > 0) {
      const modalities = this.options.generation?.responseModalities?.map((value) => value.toUpperCase());
      if (modalities !== undefined && !modalities.includes('IMAGE')) this.fail(['steps'], 'edit an image turn by turn; add IMAGE to generation.responseModalities');
    }
    if (this.options.output.keepSteps && texts.length === 0) this.fail(['output', 'keepSteps'], 'keeps the images of edit steps; the job has no steps');
    return texts;
  }

  private protocol(): Protocol {
    const protocol = this.options.protocol ?? 'gemini';
    if (protocol === 'gemini') return protocol;
    const use = firstNativeOnlyUse(this.options);
    if (use) this.fail(use.field, nativeOnlyMessage(protocol, use.capability));
    const sampling = uncarriedSampling(this.options, protocol);
    if (sampling) this.fail(sampling.field, sampling.message);
    return protocol;
  }

  private includeThoughts(model: ImageModelInfo): boolean {
    const include = this.options.generation?.includeThoughts ?? false;
    if (include && !model.thinking) this.fail(['generation', 'includeThoughts'], `${model.id} does not think, so it has no thoughts to include`);
    return include;
  }

  private debugThoughts(): boolean {
    const thoughts = this.options.debug?.thoughts ?? false;
    if (thoughts && this.options.generation?.includeThoughts !== true) {
      this.fail(['debug', 'thoughts'], 'saves the thoughts the model returns; set generation.includeThoughts: true as well');
    }
    return thoughts;
  }

  private grounding(model: ImageModelInfo): ResolvedJob['grounding'] {
    const grounding = this.options.grounding;
    if (grounding === undefined) return undefined;
    const webSearch = grounding.webSearch ?? false;
    const imageSearch = grounding.imageSearch ?? false;
    if (!webSearch && !imageSearch) this.fail(['grounding'], 'ask for webSearch, imageSearch or both (or leave grounding out)');
    if (webSearch && !model.grounding.webSearch) this.fail(['grounding', 'webSearch'], `${model.id} has no Google Search grounding`);
    if (imageSearch && !model.grounding.imageSearch) {
      const offering = Object.values(IMAGE_MODELS).filter((other) => other.grounding.imageSearch).map((other) => other.id);
      this.fail(['grounding', 'imageSearch'], `${model.id} has no image search (it is offered by ${offering.join(', ')})`);
    }
    return { webSearch, imageSearch };
  }

  private caption(): ResolvedJob['caption'] {
    const caption = this.options.caption;
    if (caption === undefined) return undefined;
    const field: FieldPath = ['caption', 'schema'];
    let schema: Record<string, unknown>;
    if (isSchemaFile(caption.schema)) {
      const text = this.source.captionSchemaText;
      if (text === undefined) this.fail([...field, 'file'], 'was not read; load job files with loadJobFile');
      try {
        schema = JSON.parse(text) as Record<string, unknown>;
      } catch (error) {
        this.fail([...field, 'file'], `"${caption.schema.file}" is not JSON: ${(error as Error).message}`);
      }
    } else {
      schema = caption.schema;
    }
    const problem = jsonSchemaProblem(schema);
    if (problem !== undefined) this.fail(field, `is not a usable JSON Schema: ${problem}`);
    const modalities = this.options.generation?.responseModalities?.map((value) => value.toUpperCase());
    if (modalities !== undefined && !modalities.includes('TEXT')) {
      this.fail(field, 'asks for a structured caption; add TEXT to generation.responseModalities');
    }
    return { schema };
  }

  private thinkingLevel(model: ImageModelInfo): ThinkingLevel | undefined {
    const level = this.options.generation?.thinkingLevel;
    if (level === undefined) return undefined;
    const upper = level.toUpperCase() as ThinkingLevel;
    if (!THINKING_LEVELS.includes(upper)) {
      this.fail(['generation', 'thinkingLevel'], `"${level}" is not a thinking level (minimal, low, medium, high)`);
    }
    if (!model.thinking) this.fail(['generation', 'thinkingLevel'], `${model.id} does not support thinking`);
    if (!model.thinkingLevels.includes(upper)) {
      this.fail(['generation', 'thinkingLevel'], `${model.id} accepts the thinking levels ${model.thinkingLevels.map((l) => l.toLowerCase()).join(', ')}`);
    }
    return upper;
  }

  private duration(value: string | number | undefined, fallback: string | number, field: FieldPath, minimumMs = 0): number {
    const ms = parseDuration(value ?? fallback);
    if (ms === undefined) this.fail(field, `"${String(value)}" is not a duration (e.g. 90s, 30m, 8h, or milliseconds)`);
    if (ms < minimumMs) this.fail(field, `must be at least ${minimumMs} ms`);
    return ms;
  }

  private sync(): ResolvedSyncSettings {
    const sync = this.options.sync ?? {};
    const defaults = JOB_DEFAULTS.sync;
    const initialMs = this.duration(sync.backoff?.initialMs, defaults.backoff.initialMs, ['sync', 'backoff', 'initialMs']);
    const maxMs = this.duration(sync.backoff?.maxMs, defaults.backoff.maxMs, ['sync', 'backoff', 'maxMs']);
    if (maxMs < initialMs) this.fail(['sync', 'backoff', 'maxMs'], `must not be below initialMs (${initialMs})`);
    return {
      concurrency: sync.concurrency ?? defaults.concurrency,
      timeoutMs: this.duration(sync.timeoutMs, defaults.timeoutMs, ['sync', 'timeoutMs'], 1),
      attempts: sync.attempts ?? defaults.attempts,
      backoff: { initialMs, maxMs, jitter: sync.backoff?.jitter ?? defaults.backoff.jitter },
      requestsPerMinute: sync.requestsPerMinute,
      globalConcurrency: sync.globalConcurrency,
      queueWindow: sync.queueWindow ?? defaults.queueWindow,
    };
  }

  private batch(): ResolvedBatchSettings {
    const batch = this.options.batch ?? {};
    const defaults = JOB_DEFAULTS.batch;
    return {
      deadlineMs: this.duration(batch.deadline, defaults.deadline, ['batch', 'deadline'], 1),
      onUnfinished: batch.onUnfinished ?? 'sync',
      maxRequestsPerBatch: batch.maxRequestsPerBatch ?? defaults.maxRequestsPerBatch,
      maxConcurrentBatches: batch.maxConcurrentBatches ?? defaults.maxConcurrentBatches,
      pollIntervalMs: this.duration(batch.pollInterval, defaults.pollInterval, ['batch', 'pollInterval'], 1),
    };
  }

  private output(keyField: string, variantCount: number): ResolvedOutput {
    const output = this.options.output;
    const key = output.key ?? DEFAULT_OBJECT_KEY_TEMPLATE;
    let problem: string | undefined;
    try {
      problem = checkObjectKeyTemplate(key, keyField, variantCount);
    } catch (error) {
      if (isBunchError(error)) this.fail(['output', 'key'], error.message);
      throw error;
    }
    if (problem) this.fail(['output', 'key'], problem);

    const url = output.url;
    if (url.startsWith('s3://')) {
      const rest = url.slice('s3://'.length);
      const slash = rest.indexOf('/');
      const bucket = slash === -1 ? rest : rest.slice(0, slash);
      const prefix = slash === -1 ? '' : rest.slice(slash + 1).replace(/\/+$/, '');
      if (bucket.includes('@') || bucket.includes(':')) {
        this.fail(['output', 'url'], 'must not carry credentials or a port; storage settings come from the environment');
      }
      if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucket)) this.fail(['output', 'url'], `"${bucket}" is not a valid bucket name`);
      if (prefix.split('/').some((segment) => segment === '.' || segment === '..') || prefix.includes('//')) {
        this.fail(['output', 'url'], 'prefix must not contain empty, "." or ".." segments');
      }
      return { kind: 's3', url: prefix ? `s3://${bucket}/${prefix}` : `s3://${bucket}`, bucket, prefix, key, ...(this.options.output.keepSteps ? { keepSteps: true } : {}) };
    }
    if (url.startsWith('file://')) {
      // `file://./out` and `file://../out` are relative to the job file: not valid URLs, but what operators write.
      let target = url.slice('file://'.length);
      try {
        target = decodeURIComponent(target);
      } catch {
        this.fail(['output', 'url'], 'is not a valid file:// URL');
      }
      if (target === '') this.fail(['output', 'url'], 'names no directory');
      const dir = path.resolve(this.dir, target);
      return { kind: 'file', url: pathToFileURL(dir).href, dir, key, ...(this.options.output.keepSteps ? { keepSteps: true } : {}) };
    }
    this.fail(['output', 'url'], 'must start with s3:// or file://');
  }
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const member of Object.values(value)) deepFreeze(member);
  }
  return value;
}

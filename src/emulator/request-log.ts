import type { IncomingMessage } from 'node:http';

/**
 * What the emulator saw: the last `capacity` requests in detail, plus counters kept forever
 * (per route, per model, per status, per fault, and successful generations per prompt hash), so
 * tests can prove "this item was paid for exactly once" even after a long run.
 */
export interface RequestLogEntry {
  /** Milliseconds since epoch when the request arrived. */
  time: number;
  method: string;
  path: string;
  /** Route name (e.g. `generateContent`), or `unmatched`. */
  route: string;
  model?: string;
  /** HTTP status sent, or 0 when no answer was sent (hang, reset, client gone). */
  status: number;
  durationMs: number;
  fault?: string;
  promptHash?: string;
  /**
   * The request's input images in part order (generateContent and the routes built on it), once
   * its parts were parsed: also on a 400/403 about those images, absent when parsing failed.
   */
  inputImages?: LoggedInputImage[];
  /** Contents (turns) in a generateContent request: more than one for a multi-turn edit. */
  turns?: number;
  /** Thought signatures the request's earlier model turns sent back (each checked). */
  echoedSignatures?: number;
}

/** One input image as the log keeps it: where it came from and what it was, never its bytes. */
export interface LoggedInputImage {
  via: 'inline' | 'file';
  mimeType?: string;
  /** Hex sha256 of the bytes; absent for a fileUri the emulator cannot follow (seed only). */
  sha256?: string;
  sizeBytes?: number;
  fileUri?: string;
  /** `files/<id>` when the fileUri named one of the emulator's own files. */
  fileName?: string;
}

export interface RequestLogFilter {
  route?: string;
  model?: string;
  status?: number;
  fault?: string;
  promptHash?: string;
  method?: string;
}

/** Fields a route learns while handling a request (the server fills in the rest). */
export type RequestAnnotation = Partial<Pick<RequestLogEntry, 'model' | 'fault' | 'promptHash' | 'inputImages' | 'turns' | 'echoedSignatures'>>;

export type GenerationSource = 'http' | 'batch';

export interface RequestLogStats {
  total: number;
  byRoute: Record<string, number>;
  byModel: Record<string, number>;
  byStatus: Record<string, number>;
  byFault: Record<string, number>;
  generations: { total: number; byModel: Record<string, number>; bySource: Record<string, number>; distinctPrompts: number };
}

export class RequestLog {
  private readonly entries: RequestLogEntry[] = [];
  private readonly annotations = new WeakMap<IncomingMessage, RequestAnnotation>();
  private readonly pending = new Map<IncomingMessage, Omit<RequestLogEntry, 'status' | 'durationMs'>>();
  private total = 0;
  private readonly byRoute = new Map<string, number>();
  private readonly byModel = new Map<string, number>();
  private readonly byStatus = new Map<string, number>();
  private readonly byFault = new Map<string, number>();
  private generationsTotal = 0;
  private readonly generationsByModel = new Map<string, number>();
  private readonly generationsBySource = new Map<string, number>();
  private readonly generationsByPrompt = new Map<string, number>();

  constructor(readonly capacity = 10_000) {}

  /** Lets a route attach the model, fault, prompt hash and input images to the entry of `req`. */
  annotate(req: IncomingMessage, annotation: RequestAnnotation): void {
    this.annotations.set(req, { ...this.annotations.get(req), ...annotation });
  }

  annotationOf(req: IncomingMessage): RequestAnnotation {
    return this.annotations.get(req) ?? {};
  }

  /** Marks a request as in flight (the server calls this on arrival). */
  begin(req: IncomingMessage, entry: Omit<RequestLogEntry, 'status' | 'durationMs'>): void {
    this.pending.set(req, entry);
  }

  /** Records the entry of an in-flight request once its response is done or its connection gone. */
  finish(req: IncomingMessage, status: number, durationMs: number): void {
    const started = this.pending.get(req);
    if (!started) return;
    this.pending.delete(req);
    this.record({ ...started, status, durationMs, ...this.annotationOf(req) });
  }

  /**
   * Requests that have arrived but not finished (e.g. hanging ones), with what routes learned so
   * far; tests wait on this instead of sleeping.
   */
  inFlight(filter: RequestLogFilter = {}): Omit<RequestLogEntry, 'status' | 'durationMs'>[] {
    return [...this.pending.entries()]
      .map(([req, entry]) => ({ ...entry, ...this.annotationOf(req) }))
      .filter((entry) => matches(entry as RequestLogEntry, filter));
  }

  record(entry: RequestLogEntry): void {
    this.entries.push(entry);
    if (this.entries.length > this.capacity) this.entries.splice(0, this.entries.length - this.capacity);
    this.total += 1;
    bump(this.byRoute, entry.route);
    if (entry.model !== undefined) bump(this.byModel, entry.model);
    bump(this.byStatus, String(entry.status));
    if (entry.fault !== undefined) bump(this.byFault, entry.fault);
  }

  /** Counts one successfully generated image (HTTP or batch item): what the customer pays for. */
  recordGeneration(model: string, promptHash: string, source: GenerationSource): void {
    this.generationsTotal += 1;
    bump(this.generationsByModel, model);
    bump(this.generationsBySource, source);
    bump(this.generationsByPrompt, promptHash);
  }

  /** Successful generations for one prompt hash (see `promptHashOf`), over the emulator's life. */
  generationsFor(promptHash: string): number {
    return this.generationsByPrompt.get(promptHash) ?? 0;
  }

  /** Entries still held (the last `capacity`) matching every given field. */
  list(filter: RequestLogFilter = {}): RequestLogEntry[] {
    return this.entries.filter((entry) => matches(entry, filter));
  }

  /** Number of held entries matching the filter; with no filter, every request ever seen. */
  count(filter: RequestLogFilter = {}): number {
    if (Object.values(filter).every((value) => value === undefined)) return this.total;
    return this.list(filter).length;
  }

  stats(): RequestLogStats {
    return {
      total: this.total,
      byRoute: Object.fromEntries(this.byRoute),
      byModel: Object.fromEntries(this.byModel),
      byStatus: Object.fromEntries(this.byStatus),
      byFault: Object.fromEntries(this.byFault),
      generations: {
        total: this.generationsTotal,
        byModel: Object.fromEntries(this.generationsByModel),
        bySource: Object.fromEntries(this.generationsBySource),
        distinctPrompts: this.generationsByPrompt.size,
      },
    };
  }

  /** Forgets entries and counters. */
  clear(): void {
    this.entries.length = 0;
    this.total = 0;
    this.generationsTotal = 0;
    for (const map of [
      this.byRoute,
      this.byModel,
      this.byStatus,
      this.byFault,
      this.generationsByModel,
      this.generationsBySource,
      this.generationsByPrompt,
    ]) {
      map.clear();
    }
  }
}

function bump(map: Map<string, number>, key: string): void {
  map.set(key, (map.get(key) ?? 0) + 1);
}

function matches(entry: RequestLogEntry, filter: RequestLogFilter): boolean {
  return (Object.keys(filter) as (keyof RequestLogFilter)[]).every(
    (key) => filter[key] === undefined || entry[key] === filter[key],
  );
}

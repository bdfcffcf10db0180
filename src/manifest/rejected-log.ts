import type { ObjectStore } from '../storage/object-store.js';
import type { ManifestRejectedLine } from './manifest-line.js';

/** Lines per part file: a catalog with a million bad rows never sits in memory at once. */
export const REJECTED_PART_LINES = 1000;

export function rejectedPartKey(runId: string, part: number): string {
  return `runs/${runId}/rejected/${String(part).padStart(6, '0')}.jsonl`;
}

/**
 * Rejected catalog rows, streamed to storage while planning reads the catalog: parts of
 * REJECTED_PART_LINES lines (`runs/<id>/rejected/<part>.jsonl`), folded into the manifest at
 * finalize in order. Memory holds one part at most.
 */
export class RejectedLog {
  private buffer: string[] = [];
  count = 0;
  parts = 0;
  /** Lines in the parts written so far. */
  stored = 0;

  constructor(
    private readonly store: ObjectStore,
    private readonly runId: string,
    private readonly partLines: number = REJECTED_PART_LINES,
    /** Told of every part written: the lines and parts written so far. */
    private readonly onPart?: (lines: number, parts: number) => Promise<void>,
  ) {}

  async add(line: ManifestRejectedLine): Promise<void> {
    this.buffer.push(JSON.stringify(line));
    this.count += 1;
    if (this.buffer.length >= this.partLines) await this.flush();
  }

  /** Writes what is buffered; returns how many parts the run has. */
  async close(): Promise<number> {
    if (this.buffer.length > 0) await this.flush();
    return this.parts;
  }

  private async flush(): Promise<void> {
    const body = this.buffer.join('\n') + '\n';
    await this.store.put(rejectedPartKey(this.runId, this.parts), body, { contentType: 'application/x-ndjson' });
    this.parts += 1;
    this.stored += this.buffer.length;
    this.buffer = [];
    await this.onPart?.(this.stored, this.parts);
  }
}

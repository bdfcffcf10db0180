/**
 * Renders a batch as the google.longrunning.Operation the Batch API returns:
 * `{name, metadata:{@type GenerateContentBatch, model, displayName, inputConfig (file jobs),
 * output, createTime, endTime, updateTime, batchStats, state, name}, done, response | error}`.
 * int64 counters are strings and zero counters are omitted (proto3 JSON); `done` is present only
 * once the batch is terminal; the output sits in both `metadata.output` and `response`.
 *
 * Inline results can be gigabytes of base64 images, so they are not put into the object: a
 * placeholder marks where the array goes and `sendOperationSegments` streams it from disk.
 */
import { randomUUID } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import type { BatchJob } from './batch-job.js';
import { readJsonlLines } from './read-jsonl-lines.js';

const METADATA_TYPE = 'type.googleapis.com/google.ai.generativelanguage.v1main.GenerateContentBatch';
const OUTPUT_TYPE = 'type.googleapis.com/google.ai.generativelanguage.v1main.GenerateContentBatchOutput';
const INLINE_PLACEHOLDER = `\u0000inline-${randomUUID()}\u0000`;
const QUOTED_PLACEHOLDER = JSON.stringify(INLINE_PLACEHOLDER);

/** JSON text, or a JSONL file whose lines are to be written as one JSON array. */
export type OperationSegment = string | { inlineResultsPath: string };

export function operationObject(job: BatchJob, now: number): Record<string, unknown> {
  const name = `batches/${job.id}`;
  const state = job.state(now);
  const output = outputOf(job);
  const metadata: Record<string, unknown> = {
    '@type': METADATA_TYPE,
    model: `models/${job.model}`,
    ...(job.displayName === undefined ? {} : { displayName: job.displayName }),
    ...(job.input.kind === 'file' ? { inputConfig: { fileName: `files/${job.input.fileId}` } } : {}),
    ...(output ? { output } : {}),
    createTime: iso(job.createTimeMs),
    ...(job.endTimeMs === undefined ? {} : { endTime: iso(job.endTimeMs) }),
    updateTime: iso(job.updateTimeMs(now)),
    batchStats: batchStats(job),
    state,
    name,
  };
  const operation: Record<string, unknown> = { name, metadata };
  if (job.terminal !== undefined) {
    operation['done'] = true;
    // An Operation's result is a oneof: error, or response.
    if (job.error) operation['error'] = job.error;
    else if (output) operation['response'] = { '@type': OUTPUT_TYPE, ...output };
  }
  return operation;
}

export function operationSegments(job: BatchJob, now: number): OperationSegment[] {
  return splitPlaceholders(JSON.stringify(operationObject(job, now)), job);
}

export function operationListSegments(jobs: readonly BatchJob[], now: number, nextPageToken: string | undefined): OperationSegment[] {
  const segments: OperationSegment[] = ['{'];
  if (jobs.length > 0) {
    segments.push('"operations":[');
    jobs.forEach((job, index) => {
      if (index > 0) segments.push(',');
      segments.push(...operationSegments(job, now));
    });
    segments.push(']');
  }
  if (nextPageToken !== undefined) segments.push(`${jobs.length > 0 ? ',' : ''}"nextPageToken":${JSON.stringify(nextPageToken)}`);
  segments.push('}');
  return segments;
}

/** Writes segments as one chunked JSON body, waiting for the socket to drain as it goes. */
export async function sendOperationSegments(res: ServerResponse, segments: readonly OperationSegment[]): Promise<void> {
  res.writeHead(200, { 'content-type': 'application/json; charset=UTF-8' });
  for (const segment of segments) {
    if (typeof segment === 'string') {
      await write(res, segment);
      continue;
    }
    await write(res, '[');
    let first = true;
    for await (const line of readJsonlLines(segment.inlineResultsPath)) {
      await write(res, first ? line.text : `,${line.text}`);
      first = false;
    }
    await write(res, ']');
  }
  res.end();
}

function outputOf(job: BatchJob): Record<string, unknown> | undefined {
  if (!job.hasOutput) return undefined;
  if (job.input.kind === 'file') return { responsesFile: `files/${job.resultFileId}` };
  return { inlinedResponses: { inlinedResponses: INLINE_PLACEHOLDER } };
}

function splitPlaceholders(json: string, job: BatchJob): OperationSegment[] {
  const parts = json.split(QUOTED_PLACEHOLDER);
  const path = job.inlineResultsPath;
  if (parts.length === 1 || path === undefined) return [json];
  const segments: OperationSegment[] = [];
  parts.forEach((part, index) => {
    if (index > 0) segments.push({ inlineResultsPath: path });
    segments.push(part);
  });
  return segments;
}

function batchStats(job: BatchJob): Record<string, string> {
  const pending = job.terminal === undefined ? job.requestCount - job.processed : 0;
  const counters: [string, number][] = [
    ['requestCount', job.requestCount],
    ['successfulRequestCount', job.succeeded],
    ['failedRequestCount', job.failed],
    ['pendingRequestCount', pending],
  ];
  return Object.fromEntries(counters.filter(([, value]) => value !== 0).map(([key, value]) => [key, String(value)]));
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

async function write(res: ServerResponse, text: string): Promise<void> {
  if (res.destroyed) throw new Error('client went away while the operation was being sent');
  if (!res.write(text)) {
    await new Promise<void>((resolve) => {
      const done = (): void => {
        res.off('drain', done);
        res.off('close', done);
        resolve();
      };
      res.on('drain', done);
      res.on('close', done);
    });
    if (res.destroyed) throw new Error('client went away while the operation was being sent');
  }
}

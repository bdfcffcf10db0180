import { GoogleApiError } from '../google-error.js';

/** One inline request of a batch with its echoed metadata. */
export interface InlineBatchRequest {
  request: unknown;
  metadata: unknown;
}

export type BatchInput =
  | { kind: 'inline'; requests: InlineBatchRequest[] }
  | { kind: 'file'; fileId: string };

export interface BatchCreateRequest {
  displayName: string | undefined;
  input: BatchInput;
}

/**
 * Validates the body of `models/{model}:batchGenerateContent`:
 * `{batch:{displayName, inputConfig:{requests:{requests:[{request, metadata}]}} | {fileName}}}`.
 * Accepts the proto field names too (display_name, input_config, file_name), as Google's JSON
 * parser does. Every problem is a 400 INVALID_ARGUMENT naming the field.
 */
export function parseBatchCreateRequest(body: unknown): BatchCreateRequest {
  const batch = field(asRecord(body), 'batch', 'batch');
  if (!isRecord(batch)) throw invalid('batch', 'is required');
  const displayName = field(batch, 'displayName', 'display_name');
  if (displayName !== undefined && typeof displayName !== 'string') throw invalid('batch.display_name', 'must be a string');
  const inputConfig = field(batch, 'inputConfig', 'input_config');
  if (!isRecord(inputConfig)) throw invalid('batch.input_config', 'is required');
  const fileName = field(inputConfig, 'fileName', 'file_name');
  const requestsHolder = field(inputConfig, 'requests', 'requests');
  if ((fileName === undefined) === (requestsHolder === undefined)) {
    throw invalid('batch.input_config', 'must set exactly one of file_name and requests');
  }
  if (fileName !== undefined) {
    if (typeof fileName !== 'string' || !/^(files\/)?[a-z0-9][a-z0-9-]*$/.test(fileName)) {
      throw invalid('batch.input_config.file_name', 'must look like files/<id>');
    }
    return { displayName, input: { kind: 'file', fileId: fileName.replace(/^files\//, '') } };
  }
  const list = isRecord(requestsHolder) ? requestsHolder['requests'] : undefined;
  if (!Array.isArray(list) || list.length === 0) {
    throw invalid('batch.input_config.requests.requests', 'must be a non-empty list');
  }
  const requests = list.map((item: unknown, index): InlineBatchRequest => {
    const request = isRecord(item) ? item['request'] : undefined;
    if (!isRecord(request)) throw invalid(`batch.input_config.requests.requests[${index}].request`, 'is required');
    return { request, metadata: item && isRecord(item) ? item['metadata'] : undefined };
  });
  return { displayName, input: { kind: 'inline', requests } };
}

function invalid(path: string, problem: string): GoogleApiError {
  return new GoogleApiError(400, 'INVALID_ARGUMENT', `Invalid value at '${path}': ${problem}.`);
}

function field(record: Record<string, unknown>, camel: string, snake: string): unknown {
  return record[camel] ?? record[snake];
}

function asRecord(value: unknown): Record<string, unknown> {
  return isRecord(value) ? value : {};
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

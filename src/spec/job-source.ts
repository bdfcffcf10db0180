import type { FieldPath } from './field-path.js';

/** Where a job definition came from, and what `resolveJob` needs that it must not read itself. */
export interface JobSource {
  /** The job file as the operator named it; relative paths in the job resolve against its directory. */
  file: string;
  /** Line (1-based) of a field in the file, when the parser kept positions (YAML/JSON files). */
  lineOf?: (path: FieldPath) => number | undefined;
  /** Text of `system: { file }`, read by `loadJobFile` so that `resolveJob` stays free of I/O. */
  systemFileText?: string;
}

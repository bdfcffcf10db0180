/** A path into a job file, as zod and the yaml package see it: `['variants', 1, 'imageSize']`. */
export type FieldPath = readonly (string | number)[];

/** `variants[1].imageSize` — the form shown to operators. */
export function formatFieldPath(path: FieldPath): string {
  let text = '';
  for (const segment of path) {
    if (typeof segment === 'number') text += `[${segment}]`;
    else text += text === '' ? segment : `.${segment}`;
  }
  return text;
}

/** Where a job definition came from, and what `resolveJob` needs that it must not read itself. */
export interface JobSource {
  /** The job file as the operator named it; relative paths in the job resolve against its directory. */
  file: string;
  /** Line (1-based) of a field in the file, when the parser kept positions (YAML/JSON files). */
  lineOf?: (path: FieldPath) => number | undefined;
  /** Text of `system: { file }`, read by `loadJobFile` so that `resolveJob` stays free of I/O. */
  systemFileText?: string;
  /** Text of `caption: { schema: { file } }`, read by `loadJobFile` likewise. */
  captionSchemaText?: string;
}

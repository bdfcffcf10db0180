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

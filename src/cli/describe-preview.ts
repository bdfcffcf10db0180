import type { PlanPreview } from './plan-preview.js';

/**
 * `bunch run --dry-run` for people: the counts and cost on one line, then each rejected row listed
 * (up to the preview's limit) where it is — file:line, the field, the code and why — so a bad row
 * can be found and fixed without a second tool.
 */
export function describePreview(preview: PlanPreview): string {
  const lines = [
    `${preview.job}: ${preview.items} items (${preview.alreadyStored} already stored, ${preview.toGenerate} to generate), ` +
      `${preview.rejectedRows} rejected rows; ${preview.lane} lane, estimated cost $${preview.estimatedUsd.toFixed(2)}`,
  ];
  for (const rejection of preview.rejections) {
    const field = rejection.field === undefined ? '' : ` field \`${rejection.field}\``;
    lines.push(`  ${rejection.file}:${rejection.line} (row ${rejection.rowNumber})${field}: ${rejection.code}: ${rejection.reason}`);
  }
  const unlisted = preview.rejectedRows - preview.rejections.length;
  if (unlisted > 0) lines.push(`  … and ${unlisted} more rejected row${unlisted === 1 ? '' : 's'} (a real run lists them all in its manifest)`);
  if (preview.storageUnchecked) lines.push(`(storage not checked: ${preview.storageUnchecked})`);
  return lines.join('\n');
}

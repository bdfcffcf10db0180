/**
 * The finishReason values of the Gemini API (v1beta OpenAPI list, 2026). The list grows over time,
 * so a response may carry a string that is not here; `isKnownFinishReason` tells them apart.
 */
export const FINISH_REASONS = [
  'FINISH_REASON_UNSPECIFIED',
  'STOP',
  'MAX_TOKENS',
  'SAFETY',
  'RECITATION',
  'LANGUAGE',
  'OTHER',
  'BLOCKLIST',
  'PROHIBITED_CONTENT',
  'SPII',
  'MALFORMED_FUNCTION_CALL',
  'IMAGE_SAFETY',
  'IMAGE_PROHIBITED_CONTENT',
  'IMAGE_OTHER',
  'NO_IMAGE',
  'IMAGE_RECITATION',
  'UNEXPECTED_TOOL_CALL',
  'TOO_MANY_TOOL_CALLS',
  'MISSING_THOUGHT_SIGNATURE',
] as const;

export type FinishReason = (typeof FINISH_REASONS)[number];

const KNOWN: ReadonlySet<string> = new Set(FINISH_REASONS);

export function isKnownFinishReason(value: string): value is FinishReason {
  return KNOWN.has(value);
}

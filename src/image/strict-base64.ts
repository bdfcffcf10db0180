/**
 * Whether `text` was strictly base64 (standard alphabet, `=` padding only at the end), judged from
 * what Node's decoder made of it. The decoder is lenient: it skips characters outside the alphabet,
 * stops at a `=` before the end, reads the URL-safe `-` and `_` as well, and reads a non-ASCII
 * character by its low byte. So a text is strict when it is ASCII, has neither URL-safe
 * character, and decoded to exactly the bytes its length promises (anything skipped or cut short
 * makes fewer). Each check is one native pass: together ~10x faster than a character-class regex
 * (~7 ms instead of ~125 ms for the 24 MB of a 4K answer; ~2 µs instead of ~57 µs at 512 px).
 *
 * `text`: whole 4-character groups, its padding (`padding` of them, 0-2) included.
 */
export function decodedStrictly(text: string, decodedBytes: number, padding: number): boolean {
  return (
    text.length % 4 === 0 &&
    decodedBytes === (text.length / 4) * 3 - padding &&
    Buffer.byteLength(text, 'utf8') === text.length &&
    !text.includes('-') &&
    !text.includes('_')
  );
}

/** How many `=` end the text (at most the two base64 allows; more is caught by the length). */
export function paddingOf(text: string): number {
  if (!text.endsWith('=')) return 0;
  return text.endsWith('==') ? 2 : 1;
}

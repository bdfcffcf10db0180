/**
 * What JSON.parse cannot tell about a catalog object: the text each top-level number was written
 * as, and member names written twice. JSON.parse turns `12345678901234567891` into
 * 12345678901234567000 (two SKUs then collide on a key neither row has), `1.0` into 1 and `1e400`
 * into Infinity; and of `{"sku":"A1", …, "sku":"A2"}` it keeps A2 without a word. Catalog fields
 * are text, so a number is taken as written.
 *
 * `text` must be one JSON object that JSON.parse accepted (the reader parses first): this scanner
 * only walks it, it does not validate.
 */
export interface MemberTexts {
  /** Member name → the number's source text, for members whose value is a number. */
  numbers: Map<string, string>;
  /** Names that appear more than once, in order of their second appearance. */
  repeated: string[];
}

export function jsonMemberTexts(text: string): MemberTexts {
  const numbers = new Map<string, string>();
  const repeated: string[] = [];
  const seen = new Set<string>();
  let at = text.indexOf('{') + 1;
  const skipSpace = () => {
    while (at < text.length && /\s/.test(text[at] as string)) at += 1;
  };
  const stringEnd = (from: number): number => {
    let index = from + 1;
    while (index < text.length && text[index] !== '"') index += text[index] === '\\' ? 2 : 1;
    return index + 1;
  };
  for (;;) {
    skipSpace();
    if (at >= text.length || text[at] === '}') break;
    if (text[at] === ',') {
      at += 1;
      continue;
    }
    const nameEnd = stringEnd(at);
    const name = JSON.parse(text.slice(at, nameEnd)) as string;
    if (seen.has(name)) repeated.push(name);
    seen.add(name);
    at = nameEnd;
    skipSpace();
    at += 1; // the colon
    skipSpace();
    const first = text[at] as string;
    if (first === '-' || (first >= '0' && first <= '9')) {
      const start = at;
      while (at < text.length && /[-+0-9.eE]/.test(text[at] as string)) at += 1;
      numbers.set(name, text.slice(start, at));
    } else if (first === '"') {
      at = stringEnd(at);
    } else if (first === '{' || first === '[') {
      // Nested values are skipped whole (they are kept as JSON text): strings may hold brackets.
      let depth = 0;
      do {
        const char = text[at];
        if (char === '"') {
          at = stringEnd(at);
          continue;
        }
        if (char === '{' || char === '[') depth += 1;
        else if (char === '}' || char === ']') depth -= 1;
        at += 1;
      } while (depth > 0 && at < text.length);
    } else {
      while (at < text.length && /[a-z]/.test(text[at] as string)) at += 1;
    }
  }
  return { numbers, repeated };
}

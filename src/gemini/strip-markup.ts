/**
 * The readable text of an HTML page (a gateway's, proxy's or WAF's error page), for an error
 * message: the head (its title mostly repeats the body's heading), scripts, styles and comments
 * dropped, tags removed, the common entities decoded, whitespace collapsed. Not a parser: it only
 * has to make a short excerpt legible to an operator.
 */
const ENTITIES: Readonly<Record<string, string>> = { nbsp: ' ', amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", '#39': "'" };

export function stripMarkup(html: string): string {
  return html
    .replace(/<(head|script|style)\b[^>]*>[\s\S]*?<\/\1\s*>/gi, ' ')
    .replace(/<!--[\s\S]*?-->/g, ' ')
    .replace(/<[^>]*>/g, ' ')
    .replace(/&(nbsp|amp|lt|gt|quot|apos|#39);/g, (_match, name: string) => ENTITIES[name] ?? '')
    .replace(/\s+/g, ' ')
    .trim();
}

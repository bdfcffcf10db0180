/**
 * Removes secrets from text that may reach logs, Redis, manifests or error messages.
 * Known secret values are replaced wherever they occur; well-known key shapes and `key=` query
 * parameters are masked even when we were not told the value.
 */
const KEY_SHAPES: RegExp[] = [
  /AIza[0-9A-Za-z_-]{20,}/g,
  /AKIA[0-9A-Z]{16}/g,
  /sk-[A-Za-z0-9_-]{16,}/g,
  /([?&]key=)[^&\s"']+/gi,
  /(x-goog-api-key["']?\s*[:=]\s*["']?)[^"'\s,}]+/gi,
  /(authorization["']?\s*[:=]\s*["']?bearer\s+)[^"'\s,}]+/gi,
];

export function redactSecrets(text: string, knownSecrets: readonly (string | undefined)[] = []): string {
  let result = text;
  for (const secret of knownSecrets) {
    if (secret && secret.length >= 4) result = result.split(secret).join('[redacted]');
  }
  for (const shape of KEY_SHAPES) {
    result = result.replace(shape, (match, prefix: unknown) =>
      typeof prefix === 'string' && prefix.length < match.length ? `${prefix}[redacted]` : '[redacted]',
    );
  }
  return result;
}

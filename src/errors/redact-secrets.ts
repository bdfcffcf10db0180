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
  // Query parameters that carry credentials in signed or tokened URLs.
  /([?&](?:token|access_token|sig|signature|secret|password|apikey|api_key|x-amz-signature|x-amz-credential|x-amz-security-token|x-goog-signature|x-goog-credential)=)[^&\s"']+/gi,
  // user:password@ in a URL (a gateway's base URL, a reference cell), unless masked already
  // (`:***@`). The scheme is anchored and bounded: tried at every position of a long run of
  // letters, an open-ended one made a 64 KB error body take seconds.
  /(?<![a-z0-9+.-])([a-z][a-z0-9+.-]{0,31}:\/\/)(?![^/\s@"'?#]*\*\*\*@)[^/\s@"'?#:]*:[^/\s@"'?#]+@/gi,
  // The same without a scheme, as a message may quote a cell's host part and path
  // (`key:secret@bucket/photo.jpg`); a path after the host keeps `model:name@version` and
  // `mailto:` addresses out of it.
  /(^|[\s"'(])[A-Za-z0-9._~-]{1,128}:(?!\*\*\*@)[^\s"'/@:]{1,256}@(?=[A-Za-z0-9.-]+\/)/g,
];

export function redactSecrets(text: string, knownSecrets: readonly (string | undefined)[] = []): string {
  let result = text;
  for (const secret of knownSecrets) {
    if (secret && secret.length >= 4) result = result.split(secret).join('[redacted]');
  }
  for (const shape of KEY_SHAPES) {
    result = result.replace(shape, (match, prefix: unknown) => {
      const kept = typeof prefix === 'string' && prefix.length < match.length ? prefix : '';
      // Credentials before a host keep their `@`, so the host still reads as one.
      return match.endsWith('@') ? `${kept}[redacted]@` : `${kept}[redacted]`;
    });
  }
  return result;
}

/**
 * Which `fileData.fileUri` values name one of the emulator's own Files API files, and which id:
 * - `files/<id>`, the resource name;
 * - `<scheme>://<host>:<port>/v1beta/files/<id>`, the `uri` the Files API hands out, when it
 *   points at this emulator: the same origin as its base URL, or a loopback / unspecified host
 *   (localhost, 127.0.0.1, [::1], 0.0.0.0) on its port, since clients reach one server by
 *   several such names;
 * - `https://generativelanguage.googleapis.com/v1beta/files/<id>`: the emulator stands in for
 *   that service, so a client that builds the canonical URI from a file name reaches it too.
 * Anything else (gs://, other hosts, bunch's own `bunch-ref:` placeholders) is not ours.
 */
const FILE_ID = /^[a-z0-9][a-z0-9-]{0,63}$/;
const FILE_PATH = /^\/v1beta\/files\/([^/:]+)$/;
const GOOGLE_HOST = 'generativelanguage.googleapis.com';
const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]', '0.0.0.0', '[::]']);

export function emulatorFileIdOf(fileUri: string, baseUrl: string): string | undefined {
  if (fileUri.startsWith('files/')) return validId(fileUri.slice('files/'.length));
  let uri: URL;
  try {
    uri = new URL(fileUri);
  } catch {
    return undefined;
  }
  if (uri.protocol !== 'http:' && uri.protocol !== 'https:') return undefined;
  const match = FILE_PATH.exec(uri.pathname);
  if (!match) return undefined;
  if (!pointsHere(uri, baseUrl)) return undefined;
  return validId(match[1] ?? '');
}

function pointsHere(uri: URL, baseUrl: string): boolean {
  if (uri.hostname === GOOGLE_HOST) return true;
  let base: URL;
  try {
    base = new URL(baseUrl);
  } catch {
    return false;
  }
  if (uri.origin === base.origin) return true;
  return uri.port === base.port && LOOPBACK_HOSTS.has(uri.hostname) && LOOPBACK_HOSTS.has(base.hostname);
}

function validId(id: string): string | undefined {
  return FILE_ID.test(id) ? id : undefined;
}

/**
 * Google answers a request naming a Files API file that expired (48 h), was deleted or belongs to
 * another project with 403 PERMISSION_DENIED "You do not have permission to access the File <id>
 * or it may not exist." That is about one item's reference image, not the API key: it must not
 * stop the run as E_AUTH would.
 */
export function isMissingFileMessage(message: string | undefined): boolean {
  return /\baccess the File\b/i.test(message ?? '');
}

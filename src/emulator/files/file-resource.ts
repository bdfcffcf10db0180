import type { StoredFile } from './file-store.js';

/** The `File` resource of the Files API (camelCase, int64 as string, RFC 3339 times). */
export interface FileResource {
  name: string;
  displayName?: string;
  mimeType: string;
  sizeBytes: string;
  createTime: string;
  updateTime: string;
  expirationTime: string;
  sha256Hash: string;
  uri: string;
  downloadUri?: string;
  state: 'ACTIVE';
  source: 'UPLOADED' | 'GENERATED';
}

/**
 * Renders a stored file as the API shows it. `uri` points at this emulator (not at Google) so a
 * client that follows it stays local; generated files also carry a `downloadUri`.
 */
export function toFileResource(file: StoredFile, baseUrl: string): FileResource {
  const created = new Date(file.createTimeMs).toISOString();
  return {
    name: `files/${file.id}`,
    ...(file.displayName === undefined ? {} : { displayName: file.displayName }),
    mimeType: file.mimeType,
    sizeBytes: String(file.sizeBytes),
    createTime: created,
    updateTime: created,
    expirationTime: new Date(file.expireTimeMs).toISOString(),
    sha256Hash: file.sha256Base64,
    uri: `${baseUrl}/v1beta/files/${file.id}`,
    ...(file.source === 'GENERATED' ? { downloadUri: `${baseUrl}/download/v1beta/files/${file.id}:download?alt=media` } : {}),
    state: 'ACTIVE',
    source: file.source,
  };
}

/**
 * Presigned GET links (AWS SigV4 query signing, `X-Amz-Signature`, `X-Amz-Expires`) for images
 * in `s3://` outputs, so a merchandiser opens an image from a spreadsheet without credentials.
 * Signing is local: no request is made. The link carries the access key ID and a signature, never
 * the secret key; with temporary credentials (an instance role, SSO) it also carries the session
 * token and dies with that session, whatever `expiresSeconds` says.
 */
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { BunchError } from '../errors/bunch-error.js';
import { createS3Client } from '../storage/create-s3-client.js';
import type { S3Settings } from '../storage/s3-settings.js';

/** SigV4 presigned URLs live at most seven days (S3 refuses a longer `X-Amz-Expires`). */
export const MAX_LINK_SECONDS = 7 * 24 * 3600;

const S3_URI = /^s3:\/\/([^/]+)\/(.+)$/;

export class LinkSigner {
  private readonly client: S3Client;

  /** `settings` are the store's own (endpoint, path style, region, credentials), so links point where the objects are. */
  constructor(settings: S3Settings, private readonly expiresSeconds: number) {
    if (!Number.isInteger(expiresSeconds) || expiresSeconds < 1 || expiresSeconds > MAX_LINK_SECONDS) {
      throw new RangeError(`a presigned link lives 1 to ${MAX_LINK_SECONDS} seconds, not ${expiresSeconds}`);
    }
    this.client = createS3Client(settings);
  }

  /** An HTTPS (or the endpoint's http) link for an `s3://bucket/key` URI; any other URI is returned as it is. */
  async linkFor(uri: string): Promise<string> {
    const match = S3_URI.exec(uri);
    if (!match) return uri;
    try {
      return await getSignedUrl(this.client, new GetObjectCommand({ Bucket: match[1], Key: match[2] }), { expiresIn: this.expiresSeconds });
    } catch (error) {
      // Signing only fails for want of credentials or a region: the operator's settings, not storage.
      throw new BunchError('E_CONFIG', `cannot sign links to ${match[1]}: ${(error as Error).message} (set AWS credentials, or export --format jsonl)`, { cause: error });
    }
  }

  close(): void {
    this.client.destroy();
  }
}

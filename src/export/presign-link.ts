import { GetObjectCommand } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { createS3Client } from '../storage/create-s3-client.js';
import type { S3Settings } from '../storage/s3-settings.js';

/** SigV4 presigned URLs live at most seven days. */
export const MAX_LINK_SECONDS = 7 * 24 * 3600;

/**
 * HTTPS links for `s3://` outputs, so a merchandiser can open an image from a spreadsheet without
 * credentials. One client (same settings as the store: endpoint, path style, credentials) for
 * every link; signing is local, no request is made.
 */
export class LinkSigner {
  private readonly client;

  constructor(settings: S3Settings, private readonly expiresSeconds: number) {
    this.client = createS3Client(settings);
  }

  async linkFor(uri: string): Promise<string> {
    const match = /^s3:\/\/([^/]+)\/(.+)$/.exec(uri);
    if (!match) return uri; // file:// and other outputs are linked as they are
    return getSignedUrl(this.client, new GetObjectCommand({ Bucket: match[1], Key: match[2] }), { expiresIn: this.expiresSeconds });
  }

  close(): void {
    this.client.destroy();
  }
}

import { S3Client, type S3ClientConfig } from '@aws-sdk/client-s3';
import { DEFAULT_S3_CONNECT_TIMEOUT_MS, DEFAULT_S3_REQUEST_TIMEOUT_MS, type ChecksumMode, type S3Settings } from './s3-settings.js';

/**
 * Builds the AWS SDK v3 S3 client from `S3Settings`. Construction does no I/O.
 *
 * Checksums: since SDK 3.729 the default (`WHEN_SUPPORTED`) sends every streamed upload as an
 * `aws-chunked` body with a CRC32 trailer. Many S3-compatible stores do not speak that encoding;
 * s3rver, for one, stores the chunk framing inside the object and answers 200, which silently
 * corrupts the bytes. `when_required` (our default) only computes checksums where the API demands
 * them, sending plain bodies, and does not insist on validating response checksums a store may
 * not produce. Choose `when_supported` only for stores known to implement flexible checksums (AWS).
 */
export function createS3Client(settings: S3Settings): S3Client {
  const checksum = sdkChecksumSetting(settings.checksumMode ?? 'when_required');
  const config: S3ClientConfig = {
    requestChecksumCalculation: checksum,
    responseChecksumValidation: checksum,
    // On AWS, a bucket in another region answers 301; follow it instead of failing.
    followRegionRedirects: true,
    // Without these a stalled store hangs a worker's call forever (the SDK's default is no
    // timeout). The request timeout is socket inactivity (`socketTimeout`): a slow but moving
    // upload is not cut off; a store that stops answering is, and the SDK retries it.
    requestHandler: {
      connectionTimeout: settings.connectTimeoutMs ?? DEFAULT_S3_CONNECT_TIMEOUT_MS,
      socketTimeout: settings.requestTimeoutMs ?? DEFAULT_S3_REQUEST_TIMEOUT_MS,
    },
  };
  // Custom endpoints (MinIO, s3rver, R2) ignore the region but the SDK insists on one.
  const region = settings.region ?? (settings.endpoint !== undefined ? 'us-east-1' : undefined);
  if (region !== undefined) config.region = region;
  if (settings.endpoint !== undefined) config.endpoint = settings.endpoint;
  if (settings.forcePathStyle !== undefined) config.forcePathStyle = settings.forcePathStyle;
  if (settings.credentials !== undefined) config.credentials = { ...settings.credentials };
  return new S3Client(config);
}

function sdkChecksumSetting(mode: ChecksumMode): 'WHEN_REQUIRED' | 'WHEN_SUPPORTED' {
  return mode === 'when_supported' ? 'WHEN_SUPPORTED' : 'WHEN_REQUIRED';
}

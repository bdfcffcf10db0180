/**
 * How to reach an S3-compatible store, independent of bucket and prefix (those come from the
 * output URL). Everything is optional: by default the AWS SDK's provider chain supplies region and
 * credentials from the usual environment (AWS_REGION, AWS_ACCESS_KEY_ID, profiles, instance roles).
 */
export type ChecksumMode = 'when_required' | 'when_supported';

export const CHECKSUM_MODES: readonly ChecksumMode[] = ['when_required', 'when_supported'];

export interface S3Credentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

export interface S3Settings {
  /** e.g. `http://minio:9000`; unset for AWS itself. */
  endpoint?: string;
  region?: string;
  /** `https://endpoint/bucket/key` instead of `https://bucket.endpoint/key` (MinIO, s3rver). */
  forcePathStyle?: boolean;
  /** See `S3ObjectStoreOptions.checksumMode`. Default `when_required`. */
  checksumMode?: ChecksumMode;
  /** Explicit credentials; leave unset to use the SDK's default provider chain. */
  credentials?: S3Credentials;
  /** Milliseconds to open a connection (BUNCH_S3_CONNECT_TIMEOUT_MS, default 5 s). */
  connectTimeoutMs?: number;
  /** Milliseconds a request may go without a byte moving (BUNCH_S3_REQUEST_TIMEOUT_MS, default 60 s). */
  requestTimeoutMs?: number;
}

export const DEFAULT_S3_CONNECT_TIMEOUT_MS = 5_000;
export const DEFAULT_S3_REQUEST_TIMEOUT_MS = 60_000;

import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Integration tests start their own redis-server and s3rver; keep parallelism modest on 2-core machines.
    pool: 'forks',
    // s3rver encrypts ListObjectsV2 continuation tokens with DES, which OpenSSL 3 only offers
    // through its legacy provider; the flag must be given when each test process starts.
    execArgv: ['--openssl-legacy-provider'],
    maxWorkers: 2,
    testTimeout: 60_000,
    hookTimeout: 60_000,
    env: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
  },
});

import { describe, expect, it } from 'vitest';
import { s3OptionsFromEnv } from '../../../src/storage/s3-options-from-env.js';

describe('s3OptionsFromEnv', () => {
  it('returns no settings for an empty environment, so the SDK defaults apply', () => {
    expect(s3OptionsFromEnv({})).toEqual({});
  });

  it('reads endpoint, region, path style and checksum mode', () => {
    const settings = s3OptionsFromEnv({
      BUNCH_S3_ENDPOINT: 'http://minio:9000',
      AWS_REGION: 'eu-west-1',
      BUNCH_S3_FORCE_PATH_STYLE: 'true',
      BUNCH_S3_CHECKSUM_MODE: 'when_supported',
    });
    expect(settings).toEqual({
      endpoint: 'http://minio:9000',
      region: 'eu-west-1',
      forcePathStyle: true,
      checksumMode: 'when_supported',
    });
    expect(Object.isFrozen(settings)).toBe(true);
  });

  it('prefers BUNCH_S3_ENDPOINT over AWS_ENDPOINT_URL_S3 and falls back to it', () => {
    expect(s3OptionsFromEnv({ BUNCH_S3_ENDPOINT: 'http://a:1', AWS_ENDPOINT_URL_S3: 'http://b:2' }).endpoint).toBe('http://a:1');
    expect(s3OptionsFromEnv({ AWS_ENDPOINT_URL_S3: 'http://b:2' }).endpoint).toBe('http://b:2');
    expect(s3OptionsFromEnv({ BUNCH_S3_ENDPOINT: '  ', AWS_ENDPOINT_URL_S3: 'http://b:2' }).endpoint).toBe('http://b:2');
  });

  it('accepts the usual spellings of booleans and checksum modes', () => {
    for (const [text, value] of [['1', true], ['YES', true], ['False', false], ['0', false], ['no', false]] as const) {
      expect(s3OptionsFromEnv({ BUNCH_S3_FORCE_PATH_STYLE: text }).forcePathStyle).toBe(value);
    }
    expect(s3OptionsFromEnv({ BUNCH_S3_CHECKSUM_MODE: 'WHEN_REQUIRED' }).checksumMode).toBe('when_required');
  });

  it('rejects unknown values with E_CONFIG naming the variable', () => {
    expect(() => s3OptionsFromEnv({ BUNCH_S3_FORCE_PATH_STYLE: 'maybe' })).toThrow(
      expect.objectContaining({ code: 'E_CONFIG', message: expect.stringContaining('BUNCH_S3_FORCE_PATH_STYLE') }),
    );
    expect(() => s3OptionsFromEnv({ BUNCH_S3_CHECKSUM_MODE: 'always' })).toThrow(
      expect.objectContaining({ code: 'E_CONFIG', message: expect.stringContaining('BUNCH_S3_CHECKSUM_MODE') }),
    );
  });

  it('never reads credentials: the SDK provider chain does', () => {
    const settings = s3OptionsFromEnv({ AWS_ACCESS_KEY_ID: 'AKIAEXAMPLE', AWS_SECRET_ACCESS_KEY: 'secret-value' });
    expect(settings).toEqual({});
  });
});

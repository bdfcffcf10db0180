import { describe, expect, it } from 'vitest';
import { emulatorFileIdOf } from '../../../src/emulator/files/emulator-file-uri.js';

const BASE = 'http://127.0.0.1:8787';

describe('emulatorFileIdOf', () => {
  it.each([
    ['files/abc123', 'abc123'],
    ['http://127.0.0.1:8787/v1beta/files/abc123', 'abc123'],
    ['http://localhost:8787/v1beta/files/abc-123', 'abc-123'],
    ['http://[::1]:8787/v1beta/files/abc123', 'abc123'],
    ['https://generativelanguage.googleapis.com/v1beta/files/abc123', 'abc123'],
    ['files/batch-o08hk76gv328ihxcssjsgwt3g6omtfysxi46', 'batch-o08hk76gv328ihxcssjsgwt3g6omtfysxi46'],
  ])('%s names emulator file %s', (uri, id) => {
    expect(emulatorFileIdOf(uri, BASE)).toBe(id);
  });

  it.each([
    'gs://bucket/files/abc123',
    'https://cdn.example.com/v1beta/files/abc123',
    'http://127.0.0.1:9999/v1beta/files/abc123',
    'http://127.0.0.1:8787/v1beta/files/abc123:download',
    'http://127.0.0.1:8787/v1/files/abc123',
    'bunch-ref:0123abcd',
    'files/ABC',
    'not a uri',
  ])('%s is not one of the emulator\'s files', (uri) => {
    expect(emulatorFileIdOf(uri, BASE)).toBeUndefined();
  });

  it('an emulator listening on 0.0.0.0 owns the uri it hands out', () => {
    expect(emulatorFileIdOf('http://0.0.0.0:8787/v1beta/files/xyz', 'http://0.0.0.0:8787')).toBe('xyz');
    expect(emulatorFileIdOf('http://emulator:8787/v1beta/files/xyz', 'http://emulator:8787')).toBe('xyz');
  });
});

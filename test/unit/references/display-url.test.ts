import { describe, expect, it } from 'vitest';
import { displayUrl } from '../../../src/references/display-url.js';

describe('displayUrl', () => {
  it('drops the query string and fragment of a signed URL', () => {
    expect(displayUrl('https://bucket.s3.amazonaws.com/p/1.jpg?X-Amz-Signature=secret123&X-Amz-Credential=AKIA#frag')).toBe(
      'https://bucket.s3.amazonaws.com/p/1.jpg',
    );
  });

  it('drops the user name and password', () => {
    expect(displayUrl('https://user:hunter2@cdn.example/a.png')).toBe('https://cdn.example/a.png');
    expect(displayUrl('http://good.example@127.0.0.1:8080/x')).toBe('http://127.0.0.1:8080/x');
  });

  it('accepts a URL object and leaves it untouched', () => {
    const url = new URL('https://cdn.example/a.png?token=secret123');
    expect(displayUrl(url)).toBe('https://cdn.example/a.png');
    expect(url.search).toBe('?token=secret123');
  });

  it('shows hosts the way WHATWG normalises them (the address the guard checks)', () => {
    expect(displayUrl('http://0x7f.1:8080/a')).toBe('http://127.0.0.1:8080/a');
    expect(displayUrl('HTTP://CDN.Example/A.png')).toBe('http://cdn.example/A.png');
  });

  it('never throws on text that is not a URL: query, userinfo and control characters removed, length capped', () => {
    expect(displayUrl('photos/1.jpg?sig=secret123')).toBe('photos/1.jpg');
    expect(displayUrl('http://user:pw@exa mple.com/a.jpg?sig=secret123')).toBe('http://exa mple.com/a.jpg');
    expect(displayUrl('http://[not-an-ip/a\nb#x')).toBe('http://[not-an-ip/ab');
    const long = displayUrl(`not a url ${'x'.repeat(1000)}?sig=secret123`);
    expect(long.length).toBeLessThanOrEqual(201);
    expect(long).not.toContain('secret123');
  });
});

import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseReferenceLocation, splitReferenceCell } from '../../../src/references/reference-location.js';

const base = path.resolve('/data/catalogs');

describe('splitReferenceCell', () => {
  it('splits on |, line breaks and comma-space, never on a bare comma inside a URL', () => {
    expect(splitReferenceCell('a.jpg|b.jpg')).toEqual(['a.jpg', 'b.jpg']);
    expect(splitReferenceCell('a.jpg\nb.jpg\r\nc.jpg')).toEqual(['a.jpg', 'b.jpg', 'c.jpg']);
    expect(splitReferenceCell('https://x.example/a.jpg, https://x.example/b.jpg')).toEqual(['https://x.example/a.jpg', 'https://x.example/b.jpg']);
    expect(splitReferenceCell('https://res.example/w_800,h_800/a.jpg')).toEqual(['https://res.example/w_800,h_800/a.jpg']);
    expect(splitReferenceCell(' | \n ')).toEqual([]);
  });
});

describe('parseReferenceLocation', () => {
  it('keeps the query in the identity (two signed URLs may differ) and drops it from what is displayed', () => {
    const location = parseReferenceLocation('https://cdn.example/p/1.jpg?X-Amz-Signature=abc#x', base);
    expect(location).toEqual({
      kind: 'http',
      url: 'https://cdn.example/p/1.jpg?X-Amz-Signature=abc#x',
      identity: 'https://cdn.example/p/1.jpg?X-Amz-Signature=abc#x',
      display: 'https://cdn.example/p/1.jpg',
    });
  });

  it('reads protocol-relative URLs as https', () => {
    expect(parseReferenceLocation('//cdn.example/a.png', base)).toMatchObject({ kind: 'http', url: 'https://cdn.example/a.png' });
  });

  it('parses s3 locations and refuses ones without an object', () => {
    expect(parseReferenceLocation('s3://photos-bucket/p/1.jpg', base)).toEqual({
      kind: 's3',
      bucket: 'photos-bucket',
      key: 'p/1.jpg',
      identity: 's3://photos-bucket/p/1.jpg',
      display: 's3://photos-bucket/p/1.jpg',
    });
    expect(parseReferenceLocation('s3://photos-bucket/', base)).toEqual({ error: 's3://photos-bucket/ names no object' });
    expect(parseReferenceLocation('s3://Bad_Bucket/a.jpg', base)).toEqual({ error: '"Bad_Bucket" in Bad_Bucket/a.jpg is not a valid bucket name' });
  });

  it('resolves relative paths and file URLs inside the catalog directory only', () => {
    expect(parseReferenceLocation('photos/1.jpg', base)).toEqual({
      kind: 'file',
      path: path.join(base, 'photos/1.jpg'),
      identity: `file:${path.join(base, 'photos/1.jpg')}`,
      display: 'photos/1.jpg',
    });
    expect(parseReferenceLocation(`file://${base}/photos/2.jpg`, base)).toMatchObject({ kind: 'file', display: 'photos/2.jpg' });
    expect(parseReferenceLocation('../secrets/key.pem', base)).toEqual({
      error: `"../secrets/key.pem" is outside the catalog's directory; local references must sit in or below it`,
    });
    expect(parseReferenceLocation('file:///etc/passwd', base)).toEqual({
      error: `"file:///etc/passwd" is outside the catalog's directory; local references must sit in or below it`,
    });
  });

  it('refuses other schemes without echoing a query string', () => {
    expect(parseReferenceLocation('ftp://host/a.jpg?token=secret', base)).toEqual({
      error: '"ftp://host/a.jpg": ftp: locations are not supported (https://, s3://, file:// or a path relative to the catalog)',
    });
    expect(parseReferenceLocation('gopher://x', base)).toMatchObject({ error: expect.stringContaining('gopher: locations are not supported') });
  });
});

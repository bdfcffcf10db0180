import { describe, expect, it } from 'vitest';
import { outputsAtPlannedKeys } from '../../../src/outputs/outputs-at-planned-keys.js';

const at = (image: string, objectKey: string, caption?: string, captionKey = 'c.txt') =>
  outputsAtPlannedKeys({ image: { key: image }, ...(caption ? { caption: { key: caption } } : {}) }, { objectKey, captionKey });

describe('outputsAtPlannedKeys (a marker counts only where the item is planned now)', () => {
  it('matches the planned key with any image extension, and nothing else', () => {
    expect(at('img/A (1)+[x].png', 'img/A (1)+[x].{{ext}}')).toBe(true);
    expect(at('img/A (1)+[x].webp', 'img/A (1)+[x].{{ext}}')).toBe(true);
    expect(at('img/A (1)+[x].gif', 'img/A (1)+[x].{{ext}}')).toBe(false);
    expect(at('img/B.png', 'img/A.{{ext}}')).toBe(false);
    expect(at('img/A.png', 'img/A.png')).toBe(true);
  });

  it("takes a dependant's hash placeholder as any hash, and checks the caption key", () => {
    expect(at('A/story-0123456789ab.jpg', 'A/story-{{hash}}.{{ext}}')).toBe(true);
    expect(at('A/story-0123456789.jpg', 'A/story-{{hash}}.{{ext}}')).toBe(false);
    expect(at('A.png', 'A.{{ext}}', 'A.txt', 'A.txt')).toBe(true);
    expect(at('A.png', 'A.{{ext}}', 'old/A.txt', 'A.txt')).toBe(false);
  });
});

import { describe, expect, it } from 'vitest';
import { parseTriggerPhrases, stripTriggerPhrases } from '../../../src/emulator/trigger-phrases.js';

describe('parseTriggerPhrases', () => {
  it('reads plain faults, case-insensitively', () => {
    expect(parseTriggerPhrases('a hat [[emu:503]]')).toEqual({ fault: { fault: '503' } });
    expect(parseTriggerPhrases('[[EMU:Text-Only]] a hat')).toEqual({ fault: { fault: 'text-only' } });
    expect(parseTriggerPhrases('x [[emu:bad-base64]]')).toEqual({ fault: { fault: 'bad-base64' } });
  });

  it('reads options: retry, block reason, latency', () => {
    expect(parseTriggerPhrases('[[emu:429:retry=2s]]')).toEqual({ fault: { fault: '429', retryAfterMs: 2000 } });
    expect(parseTriggerPhrases('[[emu:429:retry=250ms]]')).toEqual({ fault: { fault: '429', retryAfterMs: 250 } });
    expect(parseTriggerPhrases('[[emu:block=prohibited_content]]')).toEqual({ fault: { fault: 'block', blockReason: 'PROHIBITED_CONTENT' } });
    expect(parseTriggerPhrases('[[emu:latency=1500ms]] [[emu:hang]]')).toEqual({ latencyMs: 1500, fault: { fault: 'hang' } });
    expect(parseTriggerPhrases('[[emu:latency=2s]]')).toEqual({ latencyMs: 2000 });
    expect(parseTriggerPhrases('[[emu:size=800x600]] [[emu:size=0x5]]')).toEqual({ size: { width: 800, height: 600 } });
  });

  it('reads fail-first with a nested fault spec', () => {
    expect(parseTriggerPhrases('[[emu:fail-first=3:429:retry=1s]]')).toEqual({
      failFirst: { count: 3, spec: { fault: '429', retryAfterMs: 1000 } },
    });
    expect(parseTriggerPhrases('[[emu:fail-first=1:reset]]')).toEqual({ failFirst: { count: 1, spec: { fault: 'reset' } } });
  });

  it('ignores unknown tokens and keeps the first fault', () => {
    expect(parseTriggerPhrases('[[emu:teapot]] [[emu:fail-first=x:500]] plain')).toEqual({});
    expect(parseTriggerPhrases('[[emu:500]] [[emu:503]]')).toEqual({ fault: { fault: '500' } });
  });

  it('strips tokens for captions', () => {
    expect(stripTriggerPhrases('a  hat [[emu:503]] on a table')).toBe('a hat on a table');
  });
});

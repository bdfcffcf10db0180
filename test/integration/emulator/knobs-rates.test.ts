import { afterEach, describe, expect, it } from 'vitest';
import { startEmulator, type EmulatorOptions, type RunningEmulator } from '../../../src/emulator/start-emulator.js';

const MODEL = 'gemini-2.5-flash-image';
const running: RunningEmulator[] = [];

async function start(options: EmulatorOptions): Promise<RunningEmulator> {
  const emulator = await startEmulator({ apiKey: 'k', ...options });
  running.push(emulator);
  return emulator;
}

afterEach(async () => {
  await Promise.all(running.splice(0).map((emulator) => emulator.close()));
});

function generate(emulator: RunningEmulator, prompt: string, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${emulator.url}/v1beta/models/${MODEL}:generateContent?key=k`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ contents: [{ parts: [{ text: prompt }] }], generationConfig: { responseModalities: ['IMAGE'] } }),
  });
}

async function statuses(emulator: RunningEmulator, count: number): Promise<number[]> {
  const result: number[] = [];
  for (let index = 0; index < count; index += 1) result.push((await generate(emulator, `item ${index}`)).status);
  return result;
}

describe('knobs', () => {
  it('fault rates draw from a seeded PRNG: same seed → same sequence of outcomes', async () => {
    const knobs = { seed: 42, faultRates: { '503': 0.3, '500': 0.2 } };
    const first = await statuses(await start({ knobs }), 30);
    const second = await statuses(await start({ knobs }), 30);
    expect(second).toEqual(first);
    expect(first.filter((status) => status === 503).length).toBeGreaterThan(0);
    expect(first.filter((status) => status === 500).length).toBeGreaterThan(0);
    expect(first.filter((status) => status === 200).length).toBeGreaterThan(0);
    const other = await statuses(await start({ knobs: { ...knobs, seed: 43 } }), 30);
    expect(other).not.toEqual(first);
  });

  it('rate 1 for a fault hits every request; the per-request header overrides it', async () => {
    const emulator = await start({ knobs: { faultRates: { '429': 1 }, retryAfterSeconds: 4, retryAfterHeader: true } });
    const limited = await generate(emulator, 'x');
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBe('4');
    const fine = await generate(emulator, 'x', { 'x-emulator-knobs': JSON.stringify({ faultRates: { '429': 0 } }) });
    expect(fine.status).toBe(200);
    const bad = await generate(emulator, 'x', { 'x-emulator-knobs': '{"faultRates":{"429":2}}' });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { message: string } }).error.message).toMatch(/^Invalid x-emulator-knobs header: /);
  });

  it('timeScale scales advertised retry delays', async () => {
    const emulator = await start({ timeScale: 0.01, knobs: { faultRates: { '429': 1 } } });
    const body = (await (await generate(emulator, 'x')).json()) as { error: { message: string; details: { retryDelay?: string }[] } };
    expect(body.error.details[2]?.retryDelay).toBe('0.3s');
    expect(body.error.message.endsWith('Please retry in 0.3s.')).toBe(true);
  });

  it('setKnobs changes behaviour at run time, and so does POST /emulator/knobs', async () => {
    const emulator = await start({});
    expect((await generate(emulator, 'x')).status).toBe(200);
    emulator.setKnobs({ faultRates: { '500': 1 } });
    expect((await generate(emulator, 'x')).status).toBe(500);
    const set = await fetch(`${emulator.url}/emulator/knobs`, { method: 'POST', body: JSON.stringify({ faultRates: { '500': 0 } }) });
    expect(set.status).toBe(200);
    expect(((await set.json()) as { faultRates: Record<string, number> }).faultRates).toEqual({ '500': 0 });
    expect((await generate(emulator, 'x')).status).toBe(200);
    expect(() => emulator.setKnobs({ timeScale: -1 })).toThrow();
  });

  it('requestsPerMinute answers 429 with the time until a slot frees, per model', async () => {
    let clock = 1_000_000;
    const emulator = await start({ now: () => clock, knobs: { requestsPerMinute: { [MODEL]: 2 } } });
    expect((await generate(emulator, 'a')).status).toBe(200);
    clock += 10_000;
    expect((await generate(emulator, 'b')).status).toBe(200);
    clock += 5_000;
    const limited = await generate(emulator, 'c');
    expect(limited.status).toBe(429);
    const body = (await limited.json()) as { error: { message: string; details: { retryDelay?: string; violations?: unknown[] }[] } };
    expect(body.error.details[2]?.retryDelay).toBe('45s');
    expect(body.error.message).toContain(`limit: 2, model: ${MODEL}`);
    expect(body.error.details[1]?.violations).toEqual([
      {
        quotaMetric: 'generativelanguage.googleapis.com/generate_content_paid_tier_requests',
        quotaId: 'GenerateRequestsPerMinutePerProjectPerModel-PaidTier',
        quotaDimensions: { location: 'global', model: MODEL },
        quotaValue: '2',
      },
    ]);
    expect(emulator.requestLog.count({ fault: 'rpm', status: 429 })).toBe(1);
    // Another model has its own (unlimited) budget.
    const other = await fetch(`${emulator.url}/v1beta/models/gemini-3-pro-image-preview:generateContent?key=k`, {
      method: 'POST',
      body: JSON.stringify({ contents: [{ parts: [{ text: 'd' }] }] }),
    });
    expect(other.status).toBe(200);
    clock += 45_000; // the first request leaves the 60 s window
    expect((await generate(emulator, 'e')).status).toBe(200);
  });

  it('the RPM window is scaled by timeScale', async () => {
    let clock = 0;
    const emulator = await start({ now: () => clock, timeScale: 0.001, knobs: { requestsPerMinute: 1 } });
    expect((await generate(emulator, 'a')).status).toBe(200);
    expect((await generate(emulator, 'b')).status).toBe(429);
    clock += 60; // 60 s × 0.001
    expect((await generate(emulator, 'c')).status).toBe(200);
  });

  it('latency knob with timeScale: a 20 s fixed latency at 0.01 takes about 200 ms', async () => {
    const emulator = await start({ timeScale: 0.01, knobs: { latency: { kind: 'fixed', ms: 20_000 } } });
    const started = performance.now();
    expect((await generate(emulator, 'x')).status).toBe(200);
    expect(performance.now() - started).toBeGreaterThanOrEqual(195);
  });

  it('close() ends hanging requests and returns', async () => {
    const emulator = await start({ knobs: { faultRates: { hang: 1 } } });
    const pending = generate(emulator, 'stuck');
    while (emulator.requestLog.inFlight({ fault: 'hang' }).length === 0) await new Promise((resolve) => setImmediate(resolve));
    const rejected = expect(pending).rejects.toThrow(TypeError);
    await emulator.close();
    await rejected;
    expect(emulator.requestLog.count({ fault: 'hang', status: 0 })).toBe(1);
  });

  it('context.generate (batch) ignores transport faults but keeps the others', async () => {
    const emulator = await start({ knobs: { faultRates: { reset: 1 } } });
    const request = { contents: [{ parts: [{ text: 'batch item' }] }] };
    const ok = await emulator.context.generate(MODEL, request);
    expect(ok.ok).toBe(true);
    const failed = await emulator.context.generate(MODEL, { contents: [{ parts: [{ text: 'x [[emu:503]]' }] }] });
    expect(failed.ok).toBe(false);
    if (!failed.ok) expect(failed.error.toRpcStatus()).toMatchObject({ code: 14 });
    const invalid = await emulator.context.generate('nope', request);
    expect(invalid.ok ? 0 : invalid.error.httpStatus).toBe(404);
    expect(emulator.requestLog.stats().generations).toMatchObject({ total: 1, bySource: { batch: 1 } });
  });

  it('reads a JSON profile file, including batch knobs', async () => {
    const { mkdtemp, writeFile, rm } = await import('node:fs/promises');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const dir = await mkdtemp(join(tmpdir(), 'emu-profile-'));
    const path = join(dir, 'profile.json');
    await writeFile(path, JSON.stringify({ faultRates: { '503': 1 }, batch: { pendingMs: 5, runningMs: 7 } }));
    try {
      const emulator = await start({ profile: path });
      expect((await generate(emulator, 'x')).status).toBe(503);
      expect(emulator.context.batch).toMatchObject({ pendingMs: 5, runningMs: 7 });
      await writeFile(path, JSON.stringify({ faultRates: { teapot: 1 } }));
      await expect(startEmulator({ profile: path })).rejects.toMatchObject({ code: 'E_CONFIG' });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

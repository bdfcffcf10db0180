import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort } from '../../helpers/free-port.js';
import { waitFor } from '../../helpers/spawn-worker.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

function memoryOf(pid: number): { rssMb: number; peakMb: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (name: string) => Number(new RegExp(`${name}:\\s+(\\d+)`).exec(status)?.[1] ?? NaN);
  return { rssMb: kb('VmRSS') / 1024, peakMb: kb('VmHWM') / 1024 };
}

/**
 * `bunch emulator --realistic` in its own process, so only the emulator's memory is measured:
 * realistic 4K answers (~24 MB of JSON each) must not make it grow by more than ~230 MB over its
 * idle size (measured: ~95 MB idle, ~262 MB peak when built; under tsx ~135 MB idle, ~320 MB peak).
 */
describe('emulator memory with realistic 4K payloads', () => {
  const children: ReturnType<typeof spawn>[] = [];
  afterAll(() => children.forEach((child) => child.kill('SIGKILL')));

  it('serves 3 realistic 4K images with peak RSS under idle + 230 MB (the unoptimised encoder grew by ~285 MB)', { timeout: 120_000 }, async () => {
    const port = await freePort();
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'emulator', '--port', String(port), '--realistic', '--api-key', 'mem-key'], {
      cwd: repoRoot,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.push(child);
    let output = '';
    child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    await waitFor(() => output.includes(`:${port}`), 30_000, 'the emulator to listen');
    const idle = memoryOf(child.pid!);
    for (let i = 0; i < 3; i += 1) {
      const response = await fetch(`http://127.0.0.1:${port}/v1beta/models/gemini-3.1-flash-image-preview:generateContent`, {
        method: 'POST',
        headers: { 'x-goog-api-key': 'mem-key', 'content-type': 'application/json' },
        body: JSON.stringify({
          contents: [{ parts: [{ text: `realistic 4K photo ${i}` }] }],
          generationConfig: { responseModalities: ['IMAGE'], imageConfig: { imageSize: '4K', aspectRatio: '1:1' } },
        }),
      });
      expect(response.status).toBe(200);
      const body = (await response.json()) as { candidates: { content: { parts: { inlineData?: { data: string } }[] } }[] };
      const data = body.candidates[0]!.content.parts.find((part) => part.inlineData)!.inlineData!.data;
      expect(Buffer.byteLength(data, 'base64')).toBeGreaterThan(15_000_000);
    }
    const after = memoryOf(child.pid!);
    console.info(`[emulator-memory] idle ${idle.rssMb.toFixed(0)} MB, peak ${after.peakMb.toFixed(0)} MB`);
    expect(after.peakMb - idle.rssMb).toBeLessThan(230);
  });
});

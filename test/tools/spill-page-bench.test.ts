/**
 * `npm run bench:spill-page` on 64 MiB, so the page's spill measurement (bench/page/) cannot rot: it
 * builds, runs in Chromium with a real OPFS spill file in a dedicated worker, and reports finite rates.
 */
import { describe, it, expect } from 'vitest';
import { execFileSync } from 'node:child_process';

describe('bench/page: the spill file in the page', () => {
  it('writes and reads back an OPFS spill file in a worker and prints positive GB/s beside host memory', () => {
    const out = execFileSync('npm', ['run', '--silent', 'bench:spill-page'], { env: { ...process.env, BENCH_SPILL_MIB: '64' }, stdio: ['ignore', 'pipe', 'pipe'], timeout: 240_000 }).toString();
    const m = /spill \(Chromium, an OPFS spill file in a dedicated worker\): 2 matrices of 32 MiB .* memory ([\d.]+) GB\/s, spill file ([\d.]+) GB\/s .* written: memory ([\d.]+) GB\/s, spill file ([\d.]+) GB\/s/.exec(out);
    expect(m, out).not.toBeNull();
    for (const v of m!.slice(1)) {
      expect(Number.isFinite(Number(v))).toBe(true);
      expect(Number(v)).toBeGreaterThan(0);
    }
    expect(out).toMatch(/reading Llama-3-8B \(32 layers\)'s pruned matrices per forward: memory [\d.]+ s, spill file [\d.]+ s/);
  }, 300_000);
});

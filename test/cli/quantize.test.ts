/**
 * polyprune quantize (GPTQ, docs/quantize.md) on the stories260K fixture with a few short French
 * windows: the dequantized HF folder, its pruning.json settings, --json, and the one-line refusals.
 * The codes themselves are checked against the float64 reference in test/prune/gptqReference.test.ts.
 */
import { describe, it, expect, beforeAll } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { FIXTURE, requireShared } from '../helpers/fixture';
import { openSafetensors } from '../../src/io/safetensors';
import { pathSource } from '../../src/io/node';

const BIN = path.resolve('bin/polyprune.mjs');
const FRENCH = path.resolve('public/models/polyprune-ml/calib/fr.txt');
const cli = (args: string[]) => {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 300_000 });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
};

let tmp: string;
beforeAll(() => {
  requireShared(FIXTURE);
  tmp = mkdtempSync(path.join(os.tmpdir(), 'polyprune-quantize-'));
});

describe('polyprune quantize', () => {
  it('gptq 3-bit, group 32: dequantized weights on a 8-level grid per row and group, the settings in pruning.json and --json; refusals in one line', async () => {
    const out = path.join(tmp, 'q3');
    const r = cli(['quantize', '-m', FIXTURE, '--method', 'gptq', '--bits', '3', '--group-size', '32', '--act-order', '--calib', FRENCH, '--nsamples', '4', '--seqlen', '64', '-o', out, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.settings).toEqual({ method: 'gptq', bits: 3, groupSize: 32, actOrder: true, staticGroups: false });
    const rec = JSON.parse(readFileSync(path.join(out, 'pruning.json'), 'utf8'));
    expect(rec.quantization).toEqual({ method: 'gptq', bits: 3, group_size: 32, act_order: true, static_groups: false, sym: false, weights: 'dequantized' });
    expect(rec.structure).toBe('3-bit, group 32, act-order');
    expect(j.record.quantization).toEqual(rec.quantization);
    // with act-order the groups follow the quantization order, so count levels per row: at most 8 per group
    const st = await openSafetensors(pathSource(path.join(out, 'model.safetensors')));
    const w = await st.readF32('model.layers.0.self_attn.q_proj.weight');
    const before = await (await openSafetensors(pathSource(path.join(FIXTURE, 'model.safetensors')))).readF32('model.layers.0.self_attn.q_proj.weight');
    let changed = 0;
    for (let r0 = 0; r0 < 64; r0++) {
      const row = Array.from(w.subarray(r0 * 64, r0 * 64 + 64));
      expect(new Set(row).size).toBeLessThanOrEqual(8 * 2); // 2 groups of 32 columns
      for (let c = 0; c < 64; c++) if (row[c] !== before[r0 * 64 + c]) changed++;
    }
    expect(changed).toBeGreaterThan(64 * 64 * 0.9);

    const bad = [
      [['--bits', '5'], /GPTQ quantizes to 2, 3, 4 or 8 bits, got 5; give --bits 4/],
      [['--bits', '4', '--group-size', '0'], /The GPTQ group size must be a positive number of columns \(e.g. 128\) or -1 for per channel, got 0/],
      [['--bits', '4', '-m', out], /is already quantized \(gptq 3-bit\); quantize the original checkpoint instead/],
    ] as const;
    for (const [args, msg] of bad) {
      const o2 = path.join(tmp, 'bad');
      const b = cli(['quantize', '-m', FIXTURE, '--method', 'gptq', '--calib', FRENCH, '--nsamples', '2', '--seqlen', '32', '-o', o2, ...args]);
      expect(b.code).not.toBe(0);
      expect(b.stderr).toMatch(msg);
      expect(b.stderr).not.toMatch(/\n\s+at /);
      expect(existsSync(o2)).toBe(false);
    }
    const p = cli(['prune', '-m', FIXTURE, '--method', 'gptq', '--sparsity', '0.5', '--calib', FRENCH, '-o', path.join(tmp, 'p')]);
    expect(p.stderr).toMatch(/gptq quantizes and prunes nothing: run polyprune quantize --method gptq/);
    const q = cli(['quantize', '-m', FIXTURE, '--method', 'wanda', '--bits', '4', '--calib', FRENCH, '-o', path.join(tmp, 'q')]);
    expect(q.stderr).toMatch(/wanda prunes; quantize with gptq/);
    const g = cli(['grid', '-m', FIXTURE, '--method', 'gptq', '--sparsity', '0.5', '--calib', FRENCH]);
    expect(g.stderr).toMatch(/gptq rows in the grid are not implemented yet; quantize one model with polyprune quantize --method gptq/);
  });
});

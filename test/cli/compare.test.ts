/**
 * `polyprune compare` on two prunes of a model (German and English calibration): the same mask IoU
 * per layer and matrix as the experiment's mask-overlap table for those rows, and the same
 * perplexities as the experiment's cells, from the written checkpoints read matrix by matrix.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FIXTURE, SHARED, requireShared } from '../helpers/fixture';
import { requireCliBundle, runCliAsync } from '../helpers/cli';

let tmp: string;

const cli = (args: string[]) => runCliAsync(args, { timeout: 240_000 });

beforeAll(() => {
  requireCliBundle();
  requireShared(FIXTURE);
  tmp = mkdtempSync(path.join(os.tmpdir(), 'pp-compare-'));
  const text = (lang: string) => readFileSync(path.join(SHARED, `data/text/debian-handbook/${lang}.txt`), 'utf8');
  writeFileSync(path.join(tmp, 'de.txt'), text('de-DE').slice(0, 20_000));
  writeFileSync(path.join(tmp, 'en.txt'), text('en-US').slice(0, 20_000));
  writeFileSync(path.join(tmp, 'eval.txt'), text('en-US').slice(40_000, 50_000));
});
afterAll(() => {
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

describe('polyprune compare', () => {
  it("equals the experiment's mask-overlap table and perplexities for two prunes (de and en calibration)", async () => {
    const f = (n: string) => path.join(tmp, n);
    const common = ['--model', FIXTURE, '--method', 'wanda', '--sparsity', '0.5', '--nsamples', '4', '--seqlen', '32'];
    const grid = await cli(['grid', ...common, '--calib', `${f('de.txt')}:de`, `${f('en.txt')}:en`, '--eval', `${f('eval.txt')}:en`, '--eval-seqlen', '32', '--eval-max-windows', '2', '--no-recon', '--json']);
    expect(grid.code, grid.stderr).toBe(0);
    const rec = JSON.parse(grid.stdout);
    const table = rec.iou.find((x: { a: number; b: number }) => x.a === 1 && x.b === 2);
    for (const [lang, out] of [['de', 'p-de'], ['en', 'p-en']]) {
      const r = await cli(['prune', ...common, '--calib', f(`${lang}.txt`), '--out', f(out)]);
      expect(r.code, r.stderr).toBe(0);
    }
    const cmp = await cli(['compare', '--model', f('p-de'), '--with', f('p-en'), '--text', f('eval.txt'), '--seqlen', '32', '--max-windows', '2', '--json']);
    expect(cmp.code, cmp.stderr).toBe(0);
    const c = JSON.parse(cmp.stdout);
    expect(c.matrices).toEqual(['self_attn.q_proj', 'self_attn.k_proj', 'self_attn.v_proj', 'self_attn.o_proj', 'mlp.gate_proj', 'mlp.up_proj', 'mlp.down_proj']);
    expect(c.iou).toEqual(table.v);
    expect(c.meanIou).toBeGreaterThan(0.3);
    expect(c.meanIou).toBeLessThan(1);
    expect(c.ppl.a).toBeCloseTo(rec.cells[1][0].ppl[0], 3);
    expect(c.ppl.b).toBeCloseTo(rec.cells[2][0].ppl[0], 3);
    const text = await cli(['compare', '--model', f('p-de'), '--with', FIXTURE]);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toMatch(/mask IoU of .* \(zero weights; zeros 50\.00 % and 0\.00 %\)/);
    const published = await cli(['compare', '--model', f('p-de'), '--with', 'published']);
    expect(published.code).toBe(2);
    expect(published.stderr).toMatch(/No published checkpoint matches .*the authors pruned meta-llama\/Meta-Llama-3-8B-Instruct/);
  });
});

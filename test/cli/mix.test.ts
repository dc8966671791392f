import { describe, it, expect } from 'vitest';
import path from 'node:path';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { parseResultRecord } from '../../src/experiment/records';
import { FIXTURE } from '../helpers/fixture';
import { runCli } from '../helpers/cli';

const M = path.resolve('public/models/polyprune-ml');
const cli = (args: string[]) => runCli(args);

describe('polyprune mix', () => {
  it('one calibration pass for several mixes; each mix a valid prune record with its weights; perplexity per eval text', () => {
    const r = cli(['mix', '--model', M, '--calib', `${M}/calib/de.txt:de`, `${M}/calib/en.txt:en`, '--mix', 'de=1', '--mix', '0.7,0.3', '--sparsity', '0.5', '--nsamples', '4', '--seqlen', '64', '--eval', `${M}/eval/de.txt:de`, '--eval-windows', '2', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.counters.calibrationRuns).toBe(1);
    expect(out.stats.sources.map((s: { name: string; windows: number }) => [s.name, s.windows])).toEqual([['de', 4], ['en', 4]]);
    expect(out.mixes.map((m: { weights: number[] }) => m.weights)).toEqual([[1, 0], [0.7, 0.3]]);
    for (const m of out.mixes) {
      const rec = parseResultRecord(m.result);
      expect(rec.kind).toBe('prune');
      if (rec.kind !== 'prune') continue;
      expect(rec.mix?.mode).toBe('instant');
      expect(rec.mix?.weights).toEqual(m.weights);
      expect(Math.abs(rec.overall - 0.5)).toBeLessThan(0.01);
      expect(m.ppl.de).toBeGreaterThan(out.dense.de);
    }
    expect(out.mixes[0].ppl.de).not.toBe(out.mixes[1].ppl.de);
  });

  it('--method sparsegpt, --save-stats then --load-stats: the same masks and perplexity without a calibration pass; another model is refused', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'polyprune-mix-'));
    try {
      const file = path.join(dir, 'stats.safetensors');
      const common = ['--mix', 'de=1', '--mix', '0.7,0.3', '--sparsity', '0.5', '--eval', `${M}/eval/de.txt:de`, '--eval-windows', '2', '--json'];
      const a = cli(['mix', '--model', M, '--method', 'sparsegpt', '--calib', `${M}/calib/de.txt:de`, `${M}/calib/en.txt:en`, '--nsamples', '3', '--seqlen', '64', '--save-stats', file, ...common]);
      expect(a.code, a.stderr).toBe(0);
      const first = JSON.parse(a.stdout);
      expect(first.stats.method).toBe('sparsegpt');
      expect(first.counters.calibrationRuns).toBe(1);
      for (const m of first.mixes) {
        const rec = parseResultRecord(m.result);
        expect(rec.kind === 'prune' && rec.spec.method).toBe('sparsegpt');
        expect(Math.abs(m.result.overall - 0.5)).toBeLessThan(0.01);
      }
      // 2 sources x 6 layers x (3 x 256^2 + 704^2) floats, plus the windows and the header
      expect(statSync(file).size).toBeGreaterThan(2 * 6 * (3 * 256 * 256 + 704 * 704) * 4);
      const b = cli(['mix', '--model', M, '--load-stats', file, ...common]);
      expect(b.code, b.stderr).toBe(0);
      const second = JSON.parse(b.stdout);
      expect(second.counters).toEqual({ calibrationRuns: 0, calibrationForwards: 0 });
      expect(second.stats.sources).toEqual(first.stats.sources);
      expect(second.mixes.map((m: { ppl: unknown }) => m.ppl)).toEqual(first.mixes.map((m: { ppl: unknown }) => m.ppl));
      expect(second.mixes.map((m: { result: { perMatrix: unknown } }) => m.result.perMatrix)).toEqual(first.mixes.map((m: { result: { perMatrix: unknown } }) => m.result.perMatrix));
      const other = cli(['mix', '--model', FIXTURE, '--load-stats', file, '--mix', '1,1', '--sparsity', '0.5']);
      expect(other.code).not.toBe(0);
      expect(other.stderr).toMatch(/These statistics were collected on another model/);
      const wrong = cli(['mix', '--model', M, '--method', 'wanda', '--load-stats', file, '--mix', '1,1', '--sparsity', '0.5']);
      expect(wrong.stderr).toMatch(/--method wanda, but .*stats\.safetensors holds sparsegpt statistics/);
      const both = cli(['mix', '--model', M, '--load-stats', file, '--calib', `${M}/calib/de.txt:de`, '--mix', '1', '--sparsity', '0.5']);
      expect(both.stderr).toMatch(/--calib, or statistics collected before with --load-stats \(not both\)/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('--calib gen:en beside a file: each mix record names the generated text (settings, SHA-256), the same seed gives the same text and models, --load-stats keeps how it was written; a bad gen: spec is refused in one line', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'polyprune-mixgen-'));
    try {
      const file = path.join(dir, 'stats.safetensors');
      const common = ['--mix', 'gen:en=1', '--mix', '0.5,0.5', '--sparsity', '0.5', '--eval', `${M}/eval/en.txt:en`, '--eval-windows', '1', '--json'];
      const run = (extra: string[]) => cli(['mix', '--model', FIXTURE, '--calib', 'gen:en', `${M}/calib/en.txt:en`, '--nsamples', '2', '--seqlen', '12', '--gen-keep', '1', ...extra, ...common]);
      const a = run(['--save-stats', file]);
      expect(a.code, a.stderr).toBe(0);
      expect(a.stderr).toMatch(/gen:en: 2 windows written, 2 kept/);
      const first = JSON.parse(a.stdout);
      expect(first.stats.sources.map((s: { name: string; windows: number }) => [s.name, s.windows])).toEqual([['gen:en', 2], ['en', 2]]);
      const sha: string = first.stats.sources[0].sha256;
      expect(sha).toMatch(/^[0-9a-f]{64}$/);
      expect(a.stderr).toContain(`sha256 ${sha.slice(0, 12)}`);
      const weights = [[1, 0], [0.5, 0.5]];
      first.mixes.forEach((m: { result: unknown }, i: number) => {
        const rec = parseResultRecord(m.result);
        expect(rec.kind).toBe('prune');
        if (rec.kind !== 'prune') return;
        const generated = { language: 'en', prompt: 'This is', windows: 2, tokens: 12, keep: 1, temperature: 0.8, topK: 50, topP: 0.95, repetitionPenalty: 1.1, seed: 0, model: rec.model.sha256 };
        expect(rec.mix).toMatchObject({ mode: 'instant', weights: weights[i] });
        expect(rec.calibration[0]).toEqual({ name: 'gen:en', language: 'en', bytes: first.stats.sources[0].bytes, sha256: sha, weight: weights[i][0], generated });
        expect(rec.calibration[1]).not.toHaveProperty('generated');
      });
      // the same seed: the same text, masks and perplexity
      const b = run([]);
      expect(b.code, b.stderr).toBe(0);
      const second = JSON.parse(b.stdout);
      expect(second.stats.sources).toEqual(first.stats.sources);
      expect(second.mixes.map((m: { ppl: unknown }) => m.ppl)).toEqual(first.mixes.map((m: { ppl: unknown }) => m.ppl));
      expect(second.mixes.map((m: { result: { perMatrix: unknown } }) => m.result.perMatrix)).toEqual(first.mixes.map((m: { result: { perMatrix: unknown } }) => m.result.perMatrix));
      // statistics read back from the file: the records still say how the text was written
      const c = cli(['mix', '--model', FIXTURE, '--load-stats', file, ...common]);
      expect(c.code, c.stderr).toBe(0);
      const loaded = JSON.parse(c.stdout);
      expect(loaded.counters.calibrationRuns).toBe(0);
      expect(loaded.mixes.map((m: { result: { calibration: unknown } }) => m.result.calibration)).toEqual(first.mixes.map((m: { result: { calibration: unknown } }) => m.result.calibration));
      // a malformed spec, before any model is loaded: one line, no stack
      const bad = cli(['mix', '--model', FIXTURE, '--calib', 'gen:', '--mix', '1', '--sparsity', '0.5']);
      expect(bad.code).not.toBe(0);
      expect(bad.stderr.trim()).toMatch(/^polyprune: 'gen:' is not a generated source: write gen:<language>, gen:<language>:bos or gen:<language>:<prompt>, e\.g\. gen:de\.$/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  // ---- GPTQ in the mixer (gptqmix, issue 23) ----
  it('--method gptq --bits 4: instant rows quantized from the per-source Hessians; --save-stats then --load-stats gives the same model without a calibration pass, bad bits and Wanda refused', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'polyprune-mixq-'));
    try {
      const file = path.join(dir, 'stats.safetensors');
      const q = ['--bits', '4', '--group-size', '32', '--mix', 'de=1', '--eval', `${M}/eval/de.txt:de`, '--eval-windows', '1', '--json'];
      const a = cli(['mix', '--model', FIXTURE, '--method', 'gptq', '--calib', `${M}/calib/de.txt:de`, `${M}/calib/en.txt:en`, '--nsamples', '2', '--seqlen', '32', '--save-stats', file, ...q]);
      expect(a.code, a.stderr).toBe(0);
      const first = JSON.parse(a.stdout);
      expect(first.stats.method).toBe('gptq');
      expect(first.counters.calibrationRuns).toBe(1);
      const rec = parseResultRecord(first.mixes[0].result);
      expect(rec.kind === 'prune' && rec.version === 2 && rec.spec).toMatchObject({ method: 'gptq', sparsity: 0, quantize: { bits: 4, groupSize: 32, actOrder: false, staticGroups: false } });
      expect(rec.kind === 'prune' && rec.mix).toMatchObject({ mode: 'instant', weights: [1, 0] });
      expect(first.mixes[0].ppl.de).toBeGreaterThan(0);
      // the same file, loaded: the same quantized model (perplexity), no calibration pass
      const b = cli(['mix', '--model', FIXTURE, '--load-stats', file, ...q]);
      expect(b.code, b.stderr).toBe(0);
      const second = JSON.parse(b.stdout);
      expect(second.counters).toEqual({ calibrationRuns: 0, calibrationForwards: 0 });
      expect(second.mixes[0].ppl).toEqual(first.mixes[0].ppl);
      // refused in one line (a GPTQ collection is SparseGPT's Hessians: --method sparsegpt is accepted, Wanda is not)
      const wanda = cli(['mix', '--model', FIXTURE, '--load-stats', file, '--method', 'wanda', '--mix', 'de=1', '--sparsity', '0.5']);
      expect(wanda.stderr).toMatch(/--method wanda, but .*stats\.safetensors holds gptq statistics \(GPTQ Hessians, which serve gptq or sparsegpt\)/);
      const bits = cli(['mix', '--model', FIXTURE, '--load-stats', file, '--bits', '5', '--mix', 'de=1']);
      expect(bits.code).toBe(2);
      expect(bits.stderr).toMatch(/GPTQ quantizes to 2, 3, 4 or 8 bits, got 5/);
      const pruner = cli(['mix', '--model', FIXTURE, '--load-stats', file, '--method', 'sparsegpt', '--bits', '4', '--mix', 'de=1', '--sparsity', '0.5']);
      expect(pruner.stderr).toMatch(/--bits quantizes: the mixer's sparsegpt prunes only; use --method gptq --bits 4/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses a mix that does not fit the sources, and a missing sparsity', () => {
    const a = cli(['mix', '--model', M, '--calib', `${M}/calib/de.txt:de`, `${M}/calib/en.txt:en`, '--mix', '0.7,0.2,0.1', '--sparsity', '0.5']);
    expect(a.code).toBe(2);
    expect(a.stderr).toMatch(/--mix 0.7,0.2,0.1: give 2 weights/);
    const b = cli(['mix', '--model', M, '--calib', `${M}/calib/de.txt:de`, '--mix', 'fr=1', '--sparsity', '0.5']);
    expect(b.code).toBe(2);
    expect(b.stderr).toMatch(/no calibration source 'fr'. Sources: de/);
    const c = cli(['mix', '--model', M, '--calib', `${M}/calib/de.txt:de`, '--mix', '1']);
    expect(c.code).toBe(2);
    expect(c.stderr).toMatch(/exactly one of --sparsity/);
  });
});

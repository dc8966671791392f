/**
 * `polyprune prune` and `polyprune grid` with the OWL profile (--profile owl --owl-m --owl-lambda)
 * and the language-aware method (--method wanda-lang): accepted, refused where they cannot work,
 * and recorded (pruning.json, recipe.yaml, the result and experiment records).
 */
import { describe, it, expect, beforeAll } from 'vitest';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { FIXTURE, SHARED, requireShared } from '../helpers/fixture';
import { runPythonReference } from '../helpers/pythonRef';
import { parseResultRecord, type ExperimentRecord } from '../../src/experiment/records';
import { runCli, requireCliBundle } from '../helpers/cli';

const cli = (args: string[]) => runCli(args);

let tmp: string;
let en: string;
let de: string;
let heldOut: string;
beforeAll(() => {
  requireCliBundle();
  requireShared(FIXTURE);
  tmp = mkdtempSync(path.join(os.tmpdir(), 'polyprune-owl-'));
  const book = (loc: string) => readFileSync(requireShared(path.join(SHARED, `data/text/debian-handbook/${loc}.txt`)), 'utf8').split('\n');
  en = path.join(tmp, 'en.txt');
  de = path.join(tmp, 'de.txt');
  heldOut = path.join(tmp, 'held-out-en.txt');
  writeFileSync(en, book('en-US').slice(0, 400).join('\n'));
  writeFileSync(de, book('de-DE').slice(0, 400).join('\n'));
  writeFileSync(heldOut, book('en-US').slice(2371, 2500).join('\n\n'));
});

describe('polyprune prune --profile owl / --method wanda-lang', () => {
  it('OWL with Wanda on the fixture windows: pruning.json holds the per-layer sparsities of the numpy reference; no recipe.yaml (llm-compressor cannot run it) and the result record names the profile', () => {
    const out = path.join(tmp, 'owl');
    const r = cli(['prune', '-m', FIXTURE, '--method', 'wanda', '--sparsity', '0.5', '--profile', 'owl', '--owl-m', '5', '--owl-lambda', '0.08', '--calib-tokens', path.join(FIXTURE, 'calib-en.safetensors'), '-o', out, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const ref = JSON.parse(runPythonReference('OWL', 'tools/owl-reference/owl_ratios.py', [path.join(FIXTURE, 'model.safetensors'), path.join(FIXTURE, 'dense.safetensors'), '5', '0.08', '0.5']));
    const rec = JSON.parse(readFileSync(path.join(out, 'pruning.json'), 'utf8'));
    expect(rec.layer_sparsity).toMatchObject({ profile: 'owl', m: 5, lambda: 0.08 });
    rec.layer_sparsity.target.forEach((t: number, i: number) => expect(Math.abs(t - ref.sparsity[i])).toBeLessThanOrEqual(1e-12));
    expect(rec.layer_sparsity.achieved).toHaveLength(5);
    expect(Math.abs(rec.overall_sparsity - 0.5)).toBeLessThan(1 / 64);
    // llm-compressor 0.13.0 cannot run an OWL recipe (docs/export.md): none is written, pruning.json says why.
    expect(existsSync(path.join(out, 'recipe.yaml'))).toBe(false);
    expect(rec.llm_compressor).toMatchObject({ recipe: null, reason: expect.stringMatching(/on_initialize.*Linear targets/) });
    const result = parseResultRecord(JSON.parse(r.stdout).result);
    expect(result).toMatchObject({ kind: 'prune', spec: { method: 'wanda', sparsity: 0.5, profile: 'owl', owl: { m: 5, lambda: 0.08 } } });
    expect(result.kind === 'prune' && result.layerSparsity?.target).toHaveLength(5);
  });

  it('wanda-lang with two calibration files: one statistic per file, recorded; no llm-compressor recipe (it has no such modifier)', () => {
    const out = path.join(tmp, 'lang');
    const r = cli(['prune', '-m', FIXTURE, '--method', 'wanda-lang', '--sparsity', '0.5', '--calib', en, de, '--nsamples', '4', '--seqlen', '64', '--lang-beta', '0.5', '-o', out]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/wanda-lang +beta 0.5, sources en.txt \(2\), de.txt \(2\)/);
    const rec = JSON.parse(readFileSync(path.join(out, 'pruning.json'), 'utf8'));
    expect(rec).toMatchObject({ method: 'wanda-lang', language_aware: { beta: 0.5, sources: [{ name: 'en.txt', samples: 2 }, { name: 'de.txt', samples: 2 }] } });
    expect(rec.overall_sparsity).toBe(0.5);
    expect(existsSync(path.join(out, 'recipe.yaml'))).toBe(false);
    expect(rec.llm_compressor).toMatchObject({ recipe: null, reason: expect.stringMatching(/no llm-compressor equivalent/) });
    // the folder reads back as a pruned model
    const info = cli(['info', '--model', out]);
    expect(info.code, info.stderr).toBe(0);
    expect(info.stdout).toMatch(/wanda-lang/);
  });

  it('refuses what cannot work, in one line, writing nothing', () => {
    const calib = ['--calib-tokens', path.join(FIXTURE, 'calib-en.safetensors')];
    const cases: [string[], RegExp][] = [
      [['--method', 'wanda', '--nm', '2:4', '--profile', 'owl', ...calib], /OWL profile sets a different sparsity per layer, which one N:M pattern \(2:4\) cannot express/],
      [['--method', 'magnitude', '--sparsity', '0.5', '--profile', 'owl'], /OWL profile needs calibration activations/],
      [['--method', 'wanda', '--sparsity', '0.5', '--owl-m', '5', ...calib], /only apply with the OWL profile/],
      [['--method', 'wanda', '--sparsity', '0.5', '--profile', 'owl', '--owl-lambda', '0.3', ...calib], /lambda 0.3 is too large for sparsity 0.5/],
      [['--method', 'wanda', '--sparsity', '0.5', '--profile', 'owl', '--owl-m', 'five', ...calib], /--owl-m must be a number/],
      [['--method', 'sparsegpt', '--sparsity', '0.5', '--lang-beta', '1', ...calib], /beta only applies to the wanda-lang method/],
    ];
    for (const [args, msg] of cases) {
      const out = path.join(tmp, 'refused');
      const r = cli(['prune', '-m', FIXTURE, ...args, '-o', out]);
      // 2 for bad arguments; option values that do not parse are commander's errors (1), as for --sparsity
      expect(r.code, args.join(' ')).toBe(args.includes('five') ? 1 : 2);
      expect(r.stderr).toMatch(msg);
      expect(r.stderr).not.toMatch(/\n\s+at /);
      expect(existsSync(out)).toBe(false);
    }
  });
});

describe('polyprune grid with both', () => {
  it('wanda-lang + OWL on a two-language mix and a single source: the experiment record says which were used and keeps per-layer sparsity per row', () => {
    const r = cli(['grid', '-m', FIXTURE, '--calib', `${en}+${de}`, `${de}:de`, '--eval', `${heldOut}:en`, '--method', 'wanda-lang', '--sparsity', '0.5', '--profile', 'owl', '--nsamples', '4', '--seqlen', '64', '--eval-seqlen', '64', '--eval-max-windows', '1', '--no-recon', '--no-mask-overlap', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const rec = parseResultRecord(JSON.parse(r.stdout)) as ExperimentRecord;
    expect(rec.spec).toMatchObject({ method: 'wanda-lang', sparsity: 0.5, profile: 'owl', owl: { m: 5, lambda: 0.08 }, langBeta: 1 });
    expect(rec.complete).toBe(true);
    for (const row of rec.rows.slice(1)) {
      const layers = (row.layerSparsity?.[0] ?? []).map((v) => v ?? NaN);
      expect(layers).toHaveLength(5);
      expect(Math.max(...layers) - Math.min(...layers)).toBeGreaterThan(0.1);
      expect(Math.abs(layers.reduce((a, b) => a + b, 0) / 5 - 0.5)).toBeLessThan(1 / 64);
    }
    expect(rec.rows[0].layerSparsity).toBeUndefined();
  }, 600_000);
});

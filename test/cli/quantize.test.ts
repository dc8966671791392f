/**
 * polyprune quantize (GPTQ, docs/quantize.md) on the stories260K fixture with a few short French
 * windows (or text the model writes itself, gen:en): the dequantized HF folder, its pruning.json settings,
 * --json, and the one-line refusals.
 * The codes themselves are checked against the float64 reference in test/prune/gptqReference.test.ts.
 */
import { describe, it, expect, beforeAll } from 'vitest';
import { cpSync, existsSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { FIXTURE, requireShared } from '../helpers/fixture';
import { openSafetensors } from '../../src/io/safetensors';
import { pathSource } from '../../src/io/node';
import { runCli } from '../helpers/cli';

const FRENCH = path.resolve('public/models/polyprune-ml/calib/fr.txt');
const cli = (args: string[]) => runCli(args, 300_000);

let tmp: string;
beforeAll(() => {
  requireShared(FIXTURE);
  tmp = mkdtempSync(path.join(os.tmpdir(), 'polyprune-quantize-'));
});

/** The fixture with a quantization_config in config.json, as a checkpoint quantized by another tool has. */
function quantizedByOthers(): string {
  const dir = path.join(tmp, 'quantized-elsewhere');
  if (existsSync(dir)) return dir;
  cpSync(FIXTURE, dir, { recursive: true });
  const cfg = JSON.parse(readFileSync(path.join(dir, 'config.json'), 'utf8'));
  writeFileSync(path.join(dir, 'config.json'), JSON.stringify({ ...cfg, quantization_config: { quant_method: 'gptq', bits: 4, group_size: 128 } }));
  return dir;
}

describe('polyprune quantize', () => {
  it('--format onnx: onnx/model_q4.onnx (MatMulNBits) and the export sizes of every format in --json and pruning.json', () => {
    const out = path.join(tmp, 'q4onnx');
    const r = cli(['quantize', '-m', FIXTURE, '--method', 'gptq', '--bits', '4', '--group-size', '32', '--calib', FRENCH, '--nsamples', '2', '--seqlen', '32', '--format', 'onnx', '-o', out, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout);
    const onnxBytes = statSync(path.join(out, 'onnx/model_q4.onnx')).size;
    expect(j.exportBytes.onnx).toEqual({ bytes: onnxBytes, files: { 'onnx/model_q4.onnx': onnxBytes } });
    expect(j.exportBytes.hf.bytes).toBeGreaterThan(3 * onnxBytes);
    expect(j.exportBytes['hf-gptq'].refused).toMatch(/not a multiple of 8/);
    const rec = JSON.parse(readFileSync(path.join(out, 'pruning.json'), 'utf8'));
    expect(rec.quantization).toMatchObject({ bits: 4, group_size: 32, weights: 'matmulnbits', export_bytes: { onnx: onnxBytes, hf: j.exportBytes.hf.bytes } });
    expect(existsSync(path.join(out, 'onnx/model.onnx'))).toBe(false);
  });

  it('--calib gen:en: the model writes its own windows, pruning.json names that text (settings, SHA-256), the same seed writes the same model; a bad gen: spec is refused in one line', () => {
    const run = (out: string, seed: string) => cli(['quantize', '-m', FIXTURE, '--method', 'gptq', '--bits', '4', '--group-size', '32', '--calib', 'gen:en', '--nsamples', '2', '--seqlen', '12', '--gen-keep', '1', '--gen-seed', seed, '-o', out, '--json']);
    const [a, b] = [path.join(tmp, 'gen-a'), path.join(tmp, 'gen-b')];
    const r = run(a, '5');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/gen:en: 2 windows written, 2 kept/);
    const j = JSON.parse(r.stdout);
    const rec = JSON.parse(readFileSync(path.join(a, 'pruning.json'), 'utf8'));
    const generated = { language: 'en', prompt: 'This is', windows: 2, tokens: 12, keep: 1, temperature: 0.8, topK: 50, topP: 0.95, repetitionPenalty: 1.1, seed: 5, model: rec.model.sha256 };
    expect(rec.model.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(rec.quantization).toMatchObject({ method: 'gptq', bits: 4, group_size: 32 });
    expect(rec.calibration).toMatchObject({ nsamples: 2, seqlen: 12 });
    expect(rec.calibration.files).toHaveLength(1);
    expect(rec.calibration.files[0]).toMatchObject({ name: 'gen:en', language: 'en', samples: 2 });
    expect(rec.calibration.files[0].generated).toEqual(generated);
    const sha: string = rec.calibration.files[0].sha256;
    expect(sha).toMatch(/^[0-9a-f]{64}$/);
    expect(r.stderr).toContain(`sha256 ${sha.slice(0, 12)}`);
    expect(j.record.calibration).toEqual(rec.calibration);
    // the same seed: the same text and the same quantized weights
    const again = run(b, '5');
    expect(again.code, again.stderr).toBe(0);
    expect(JSON.parse(readFileSync(path.join(b, 'pruning.json'), 'utf8')).calibration).toEqual(rec.calibration);
    expect(readFileSync(path.join(b, 'model.safetensors')).equals(readFileSync(path.join(a, 'model.safetensors')))).toBe(true);
    // an empty prompt, before any model is loaded: one line, no stack, no output folder
    const bad = cli(['quantize', '-m', FIXTURE, '--method', 'gptq', '--bits', '4', '--calib', 'gen:en:', '--nsamples', '2', '--seqlen', '12', '-o', path.join(tmp, 'gen-bad')]);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr.trim()).toMatch(/^polyprune: 'gen:en:': the prompt is empty; give a few words, or gen:en:bos for the BOS token alone\.$/);
    expect(existsSync(path.join(tmp, 'gen-bad'))).toBe(false);
  });

  it('gptq 3-bit, group 32: dequantized weights on a 8-level grid per row and group, the settings in pruning.json and --json; refusals in one line', async () => {
    const out = path.join(tmp, 'q3');
    const r = cli(['quantize', '-m', FIXTURE, '--method', 'gptq', '--bits', '3', '--group-size', '32', '--act-order', '--calib', FRENCH, '--nsamples', '4', '--seqlen', '64', '-o', out, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.settings).toEqual({ method: 'gptq', bits: 3, groupSize: 32, actOrder: true, staticGroups: false });
    const rec = JSON.parse(readFileSync(path.join(out, 'pruning.json'), 'utf8'));
    expect(rec.quantization).toMatchObject({ method: 'gptq', bits: 3, group_size: 32, act_order: true, static_groups: false, sym: false, weights: 'dequantized' });
    expect(rec.quantization.export_bytes.hf).toBe(statSync(path.join(out, 'model.safetensors')).size);
    expect(rec.structure).toBe('3-bit, group 32, act-order');
    expect(rec.quantization).toMatchObject(j.record.quantization);
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
      [['--bits', '4', '-m', quantizedByOthers()], /is already quantized \(quantization_config: gptq 4-bit\); PolyPrune reads float checkpoints/],
      [['--bits', '4', '--act-order', '--format', 'onnx'], /act-order without static groups scatters each group over the columns; quantize with --static-groups, or export as hf-gptq/],
      [['--bits', '3', '--format', 'onnx'], /ONNX MatMulNBits export holds 2-, 4- or 8-bit codes/],
      [['--bits', '4', '--format', 'hf-gptq'], /'model\.layers\.0\.self_attn\.q_proj\.weight'|not a multiple of 8/],
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
    expect(g.stderr).toMatch(/gptq quantizes: give --bits/);
    const g2 = cli(['grid', '-m', FIXTURE, '--method', 'gptq', '--bits', '4', '--sparsity', '0.5', '--calib', FRENCH]);
    expect(g2.stderr).toMatch(/gptq quantizes and prunes nothing: drop --sparsity/);
  });
});

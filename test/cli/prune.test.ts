import { parseResultRecord } from '../../src/experiment/records';
import { describe, it, expect, beforeAll } from 'vitest';
import { mkdtempSync, writeFileSync, readFileSync, existsSync, mkdirSync, readdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { FIXTURE, SHARED, requireShared, fixtureMetrics, fixtureTensors } from '../helpers/fixture';
import { openSafetensors } from '../../src/io/safetensors';
import { pathSource } from '../../src/io/node';
import { decodeRecordLink } from '../../src/experiment/share';
import { runCli } from '../helpers/cli';

const BUNDLED = path.resolve('public/models/polyprune-ml');
const cli = (args: string[]) => runCli(args);

let tmp: string;
let evalText: string;
let deText: string;
beforeAll(() => {
  requireShared(FIXTURE);
  tmp = mkdtempSync(path.join(os.tmpdir(), 'polyprune-prune-'));
  const en = readFileSync(path.join(SHARED, 'data/text/debian-handbook/en-US.txt'), 'utf8').split('\n');
  evalText = path.join(tmp, 'eval-en.txt');
  writeFileSync(evalText, en.slice(2371, 2936).join('\n\n'));
  const de = readFileSync(requireShared(path.join(SHARED, 'data/text/debian-handbook/de-DE.txt')), 'utf8').split('\n');
  deText = path.join(tmp, 'de.txt');
  writeFileSync(deText, de.slice(0, 400).join('\n'));
});

function ppl(model: string): number {
  const r = cli(['ppl', '--model', model, '--text', evalText, '--seqlen', '64', '--max-windows', '4', '--json']);
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout).ppl;
}

describe('polyprune prune', () => {
  it('wanda 50% with the fixture windows reproduces the reference masks, record and perplexity; reruns are bitwise identical', async () => {
    const out1 = path.join(tmp, 'wanda1');
    const out2 = path.join(tmp, 'wanda2');
    const calib = path.join(FIXTURE, 'calib-en.safetensors');
    const r = cli(['prune', '-m', FIXTURE, '--method', 'wanda', '--sparsity', '0.5', '--calib-tokens', calib, '--nsamples', '16', '--seqlen', '64', '-o', out1, '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/layer 5\/5/);
    // the versioned result record the page and history read
    const result = parseResultRecord(JSON.parse(r.stdout).result);
    expect(result).toMatchObject({ kind: 'prune', spec: { method: 'wanda', sparsity: 0.5, nm: null, nsamples: 16, seqlen: 64 }, calibration: [], recon: null });
    expect(result.kind === 'prune' && result.sparsity.length).toBe(5);
    const rec = JSON.parse(readFileSync(path.join(out1, 'pruning.json'), 'utf8'));
    expect(rec).toMatchObject({ method: 'wanda', structure: 'unstructured', sparsity_ratio: 0.5 });
    // The model folder's absolute path stays on this machine: not in the export, the record or its share link.
    const abs = path.resolve(FIXTURE);
    expect(result.model.source).toBe("local folder 'stories260K'");
    expect(rec.model).toEqual({ source: "local folder 'stories260K'", sha256: result.model.sha256, model_type: 'llama' });
    for (const f of readdirSync(out1)) expect(readFileSync(path.join(out1, f)).includes(abs), f).toBe(false);
    writeFileSync(path.join(tmp, 'wanda1.json'), r.stdout);
    const link = cli(['share', path.join(tmp, 'wanda1.json')]);
    expect(link.code, link.stderr).toBe(0);
    expect(JSON.stringify(decodeRecordLink(link.stdout.trim()).record)).not.toContain(abs);
    expect(rec.overall_sparsity).toBeCloseTo(0.5, 9);
    const got = await openSafetensors(pathSource(path.join(out1, 'model.safetensors')));
    const ref = await fixtureTensors('wanda-unstructured-0.5-en.safetensors');
    let flips = 0;
    for (const name of [...ref.tensors.keys()].filter((n) => !n.startsWith('mask.'))) {
      const a = await got.readF32(name);
      const b = await ref.readF32(name);
      for (let i = 0; i < a.length; i++) if ((a[i] === 0) !== (b[i] === 0)) flips++;
    }
    expect(flips).toBe(0);
    const want = fixtureMetrics().variants['wanda-unstructured-0.5-en'].eval['eval-en'].ppl;
    expect(Math.abs(ppl(out1) - want) / want).toBeLessThan(0.01);
    expect(cli(['prune', '-m', FIXTURE, '--method', 'wanda', '--sparsity', '0.5', '--calib-tokens', calib, '-o', out2]).code).toBe(0);
    for (const f of readdirSync(out1)) expect(readFileSync(path.join(out2, f)).equals(readFileSync(path.join(out1, f))), f).toBe(true);
  });

  it('ria 2:4 with German calibration text: a 2:4 model, recorded as ria, and no llm-compressor recipe (it has no RIA modifier)', () => {
    const out = path.join(tmp, 'ria');
    const r = cli(['prune', '-m', FIXTURE, '--method', 'ria', '--nm', '2:4', '--calib', deText, '--nsamples', '4', '--seqlen', '64', '-o', out, '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(parseResultRecord(JSON.parse(r.stdout).result)).toMatchObject({ kind: 'prune', spec: { method: 'ria', nm: { n: 2, m: 4 } } });
    const rec = JSON.parse(readFileSync(path.join(out, 'pruning.json'), 'utf8'));
    expect(rec).toMatchObject({ method: 'ria', structure: '2:4', llm_compressor: { recipe: null, reason: expect.stringMatching(/no RIA modifier/) } });
    expect(rec.overall_sparsity).toBe(0.5);
    expect(existsSync(path.join(out, 'recipe.yaml'))).toBe(false);
  });

  it('--calib gen:fr on the bundled model: the model writes the French windows, and how is recorded in the result record and pruning.json', () => {
    const out = path.join(tmp, 'gen-fr');
    const r = cli(['prune', '-m', BUNDLED, '--method', 'wanda', '--sparsity', '0.5', '--calib', 'gen:fr', '--nsamples', '2', '--seqlen', '12', '--gen-keep', '1', '-o', out, '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/gen:fr: 2 windows written, 2 kept/);
    const { result, record } = JSON.parse(r.stdout);
    const generated = { language: 'fr', prompt: "C'est", windows: 2, tokens: 12, keep: 1, temperature: 0.8, topK: 50, topP: 0.95, repetitionPenalty: 1.1, seed: 0, model: result.model.sha256 };
    const parsed = parseResultRecord(result);
    expect(parsed).toMatchObject({ kind: 'prune', spec: { method: 'wanda', nsamples: 2, seqlen: 12 }, calibration: [{ name: 'gen:fr', language: 'fr', generated }] });
    const sha = parsed.kind === 'prune' ? parsed.calibration[0].sha256 : '';
    expect(r.stderr).toContain(`sha256 ${sha.slice(0, 12)}`);
    expect(record.calibration.files).toMatchObject([{ name: 'gen:fr', sha256: sha, samples: 2, generated }]);
    expect(JSON.parse(readFileSync(path.join(out, 'pruning.json'), 'utf8')).calibration.files[0].generated).toEqual(generated);
    // a language without default words, before any model is loaded
    const bad = cli(['prune', '-m', BUNDLED, '--method', 'wanda', '--sparsity', '0.5', '--calib', 'gen:xx', '--nsamples', '2', '--seqlen', '12', '-o', path.join(tmp, 'gen-xx')]);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr.trim()).toMatch(/^polyprune: 'gen:xx': there are no default words for 'xx' \(there are for ar, de, .*\); give a prompt/);
    expect(existsSync(path.join(tmp, 'gen-xx'))).toBe(false);
  });

  it('sparsegpt 2:4 with German calibration text writes a valid 2:4 model', () => {
    const out = path.join(tmp, 'sgpt');
    const r = cli(['prune', '-m', FIXTURE, '--method', 'sparsegpt', '--nm', '2:4', '--calib', deText, '--nsamples', '8', '--seqlen', '64', '--seed', '3', '-o', out, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const rec = JSON.parse(readFileSync(path.join(out, 'pruning.json'), 'utf8'));
    expect(rec.structure).toBe('2:4');
    expect(rec.calibration.files[0].sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(rec.overall_sparsity).toBeCloseTo(0.5, 9);
    const p = ppl(out);
    expect(p).toBeGreaterThan(38.57); // pruning hurts...
    expect(p).toBeLessThan(1000); // ...but the model still works
  });

  it('sparsegpt 2:4 --bits 4: the joint mode, 2:4 with every kept weight on a 4-bit grid per row; bits with Wanda refused', () => {
    const out = path.join(tmp, 'sgpt-q4');
    const r = cli(['prune', '-m', FIXTURE, '--method', 'sparsegpt', '--nm', '2:4', '--bits', '4', '--calib', deText, '--nsamples', '4', '--seqlen', '32', '-o', out]);
    expect(r.code, r.stderr).toBe(0);
    const rec = JSON.parse(readFileSync(path.join(out, 'pruning.json'), 'utf8'));
    expect(rec.structure).toBe('2:4 + 4-bit, per channel');
    expect(rec.sparsity_ratio).toBe(0.5);
    expect(rec.quantization).toMatchObject({ method: 'sparsegpt', bits: 4, group_size: -1, sym: false });
    expect(rec.overall_sparsity).toBeGreaterThanOrEqual(0.5);
    // llm-compressor has no joint pass: no recipe, and pruning.json says why
    expect(existsSync(path.join(out, 'recipe.yaml'))).toBe(false);
    expect(rec.llm_compressor.reason).toMatch(/joint prune \+ quantize pass has no llm-compressor recipe/);
    const bad = cli(['prune', '-m', FIXTURE, '--method', 'wanda', '--sparsity', '0.5', '--bits', '4', '--calib', deText, '-o', path.join(tmp, 'x-bits')]);
    expect(bad.code).toBe(2);
    expect(bad.stderr.trim().split('\n').at(-1)).toMatch(/wanda prunes and takes no bits .* prune and quantize together with sparsegpt/);
    expect(existsSync(path.join(tmp, 'x-bits'))).toBe(false);
  });

  it('bad input ends in a clear message and leaves nothing behind', () => {
    const calib = path.join(FIXTURE, 'calib-en.safetensors');
    const base = ['prune', '-m', FIXTURE, '--method', 'wanda', '--calib-tokens', calib];
    const cases: Array<[string[], RegExp]> = [
      [['prune', '-m', FIXTURE, '--method', 'wanda', '--sparsity', '1.5', '--calib-tokens', calib, '-o', path.join(tmp, 'x1')], /Sparsity must be a number strictly between 0 and 1 \(e.g. 0.5 for 50 %\), got 1.5/],
      [['prune', '-m', FIXTURE, '--method', 'wanda', '--sparsity', 'half', '--calib-tokens', calib, '-o', path.join(tmp, 'x1')], /--sparsity must be a number in \(0, 1\), e.g. 0.5 or 50% \(got 'half'\)/],
      [[...base, '--nm', '3:5', '-o', path.join(tmp, 'x2')], /N:M 3:5 needs in_features divisible by 5/],
      [['prune', '-m', FIXTURE, '--method', 'wanda', '--sparsity', '0.5', '--calib', deText, '--nsamples', '0', '-o', path.join(tmp, 'x3')], /--nsamples must be an integer >= 1/],
      [['prune', '-m', FIXTURE, '--method', 'wanda', '--sparsity', '0.5', '--calib', deText, '--seqlen', '0', '-o', path.join(tmp, 'x3')], /--seqlen must be an integer >= 1/],
      [['prune', '-m', FIXTURE, '--method', 'wanda', '--sparsity', '0.5', '--calib', deText, '--seqlen', '4096', '-o', path.join(tmp, 'x3')], /longer than the model's context/],
      [['prune', '-m', FIXTURE, '--method', 'wanda', '--sparsity', '0.5', '-o', path.join(tmp, 'x4')], /needs calibration/],
      [['prune', '-m', FIXTURE, '--method', 'obs', '--sparsity', '0.5', '-o', path.join(tmp, 'x4')], /Unknown pruning method 'obs'. Supported: wanda/],
    ];
    // less text than one window (what wanda's sampler needs); more windows than the text holds end to end only overlap, with a warning
    const short = path.join(tmp, 'short.txt');
    writeFileSync(short, 'Der Bär läuft.');
    cases.push([['prune', '-m', FIXTURE, '--method', 'wanda', '--sparsity', '0.5', '--calib', short, '--nsamples', '5000', '--seqlen', '64', '-o', path.join(tmp, 'x3')], /too short: a window of 64 tokens needs at least 65 tokens/]);
    const empty = path.join(tmp, 'empty.txt');
    writeFileSync(empty, '');
    cases.push([['prune', '-m', FIXTURE, '--method', 'wanda', '--sparsity', '0.5', '--calib', empty, '--nsamples', '2', '--seqlen', '8', '-o', path.join(tmp, 'x5')], /empty/i]);
    const binary = path.join(tmp, 'weights.bin');
    writeFileSync(binary, Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 37) % 256)));
    cases.push([['prune', '-m', FIXTURE, '--method', 'wanda', '--sparsity', '0.5', '--calib', binary, '--nsamples', '2', '--seqlen', '8', '-o', path.join(tmp, 'x6')], /binary|UTF-8/i]);
    const latin1 = path.join(tmp, 'latin1.txt');
    writeFileSync(latin1, Buffer.from('Der Bär läuft über die Straße. '.repeat(50), 'latin1'));
    cases.push([['prune', '-m', FIXTURE, '--method', 'wanda', '--sparsity', '0.5', '--calib', latin1, '--nsamples', '2', '--seqlen', '8', '-o', path.join(tmp, 'x7')], /UTF-8/]);
    const exists = path.join(tmp, 'exists');
    mkdirSync(exists);
    cases.push([[...base, '--sparsity', '0.5', '-o', exists], /exists/i]);
    for (const [args, msg] of cases) {
      const r = cli(args);
      expect(r.code, args.join(' ')).not.toBe(0);
      expect(r.stderr, args.join(' ')).toMatch(msg);
    }
    for (const d of ['x1', 'x2', 'x3', 'x4', 'x5', 'x6', 'x7']) expect(existsSync(path.join(tmp, d))).toBe(false);
    expect(readdirSync(tmp).filter((f) => f.includes('.partial-'))).toEqual([]);
  });
});

/**
 * Every malformed input of the corpus (make-corpus.ts, generated from the fixture) through the CLI
 * and through the engine API the app uses. Each must end with a non-zero exit (or a flagged warning),
 * one message line that names the input, no stack trace, no partial output and no open handles.
 * The stall and mid-body-close servers bind 127.0.0.1 and use sub-second stall timeouts.
 */
import { spawnSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PolyPruneError } from '../../src/common/errors';
import { decodeTextFile } from '../../src/common/text';
import { LocalEngine } from '../../src/engine/engine';
import { nodeGpu } from '../../src/gpu/node';
import { dirFolder } from '../../src/io/node';
import { FIXTURE, requireShared } from '../helpers/fixture';
import { startFaultyServer } from '../helpers/faultyServer';
import { makeCorpus, type Corpus } from './make-corpus';

const BIN = path.resolve('bin/polyprune.mjs');
let c: Corpus;
let tmp: string;

beforeAll(async () => {
  if (!existsSync(path.resolve('dist-cli/polyprune.mjs'))) throw new Error('CLI bundle missing: run `npm run build:cli` (npm test does).');
  requireShared(FIXTURE);
  tmp = mkdtempSync(path.join(os.tmpdir(), 'polyprune-corpus-'));
  c = await makeCorpus(FIXTURE, tmp);
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

interface Run {
  code: number;
  stdout: string;
  stderr: string;
  /** stderr lines that are messages of ours (not progress, not Dawn's adapter notes). */
  errors: string[];
  warnings: string[];
}

function judge(code: number, stdout: string, stderr: string): Run {
  const lines = stderr.split('\n');
  return {
    code,
    stdout,
    stderr,
    errors: lines.filter((l) => l.startsWith('polyprune: ') && !l.startsWith('polyprune: warning: ')),
    warnings: lines.filter((l) => l.startsWith('polyprune: warning: ')),
  };
}

function cli(args: string[]): Run {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 120_000 });
  return judge(r.status ?? -1, r.stdout, r.stderr);
}

/** The CLI as a child we can await while a server runs in this process. */
function cliAsync(args: string[]): Promise<Run> {
  return new Promise((ok) => {
    const p = spawn(process.execPath, [BIN, ...args]);
    let out = '';
    let err = '';
    p.stdout.on('data', (d: Buffer) => (out += d.toString()));
    p.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const timer = setTimeout(() => p.kill('SIGKILL'), 60_000);
    p.on('close', (code) => {
      clearTimeout(timer);
      ok(judge(code ?? -1, out, err));
    });
  });
}

/** The common promises: refused, one line naming the input, no stack, no leaked handle warning. */
function expectRefused(r: Run, names: string[], exit?: number): void {
  const all = `${r.stderr}\n${r.stdout}`;
  expect(r.code, all).not.toBe(0);
  if (exit !== undefined) expect(r.code, all).toBe(exit);
  expect(r.errors, all).toHaveLength(1);
  for (const n of names) expect(r.errors[0], all).toContain(n);
  expect(all).not.toMatch(/^\s+at .+\(.*\)$/m);
  expect(all).not.toContain('unexpected error');
  expect(all).not.toContain('Closing file descriptor');
  expect(r.stdout).not.toMatch(/perplexity|accuracy/i);
}

function expectWarned(r: Run, words: string[]): void {
  const all = `${r.stderr}\n${r.stdout}`;
  expect(r.code, all).toBe(0);
  expect(r.errors, all).toHaveLength(0);
  expect(r.warnings.length, all).toBeGreaterThanOrEqual(1);
  for (const w of words) expect(r.warnings.join('\n'), all).toContain(w);
  expect(all).not.toContain('Closing file descriptor');
}

/** No output folder and no `<out>.partial-*` sibling left behind. */
function expectNothingWritten(out: string): void {
  expect(existsSync(out)).toBe(false);
  const dir = path.dirname(out);
  if (existsSync(dir)) expect(readdirSync(dir).filter((f) => f.startsWith(`${path.basename(out)}.partial-`))).toEqual([]);
}

describe('corpus through the CLI', () => {
  const prune = (model: string, out: string, extra: string[] = []): string[] => [
    'prune', '--model', model, '--method', 'wanda', '--sparsity', '0.5', '--nsamples', '2', '--seqlen', '32', '--calib', c.texts.good, '--out', out, ...extra,
  ];

  it('non-finite weights: ppl, prune and eval refuse, naming tensor, count and first index; nothing written', () => {
    const ppl = cli(['ppl', '--model', c.models.nanWeight, '--text', c.texts.good, '--seqlen', '32', '--json']);
    expectRefused(ppl, ["'model.layers.2.mlp.up_proj.weight'", '1 non-finite value', '[7, 3]'], 1);
    expect(ppl.stdout).toBe('');
    const out = path.join(tmp, 'out-nan');
    expectRefused(cli(prune(c.models.infRow, out)), ["'model.layers.0.self_attn.q_proj.weight'", '64 non-finite values', '[5, 0]'], 1);
    expectNothingWritten(out);
    const task = path.join(tmp, 'task.jsonl');
    writeFileSync(task, `${JSON.stringify({ context: 'Once upon a time', choices: [' there', ' cat'], gold: 0 })}\n`);
    expectRefused(cli(['eval', '--model', c.models.nanEmbedding, '--task', 'jsonl', '--data', task]), ["'model.embed_tokens.weight'", '[42, 0]'], 1);
  });

  it('activations that overflow stop ppl and prune at the layer where they appear', () => {
    expectRefused(cli(['ppl', '--model', c.models.overflow, '--text', c.texts.good, '--seqlen', '32', '--max-windows', '2', '--json']), ['decoder layer 1'], 1);
    const out = path.join(tmp, 'out-overflow');
    expectRefused(cli(prune(c.models.overflow, out)), ['layer 1', 'non-finite'], 1);
    expectNothingWritten(out);
  });

  it('a tokenizer with ids past vocab_size is refused by every command at load', () => {
    for (const args of [
      ['info', '--model', c.models.tokenizerTooBig],
      ['ppl', '--model', c.models.tokenizerTooBig, '--text', c.texts.good, '--seqlen', '32'],
    ]) expectRefused(cli(args), [c.models.tokenizerTooBig, '701 token ids', 'vocab_size is 512'], 1);
  });

  it('out-of-vocabulary, negative and float token windows are refused the same way by ppl and prune', () => {
    expectRefused(cli(['ppl', '--model', FIXTURE, '--windows', c.windows.outOfVocab]), [c.windows.outOfVocab, 'token id 9999'], 2);
    expectRefused(cli(['ppl', '--model', FIXTURE, '--windows', c.windows.negative]), [c.windows.negative, 'token id -3'], 2);
    expectRefused(cli(['ppl', '--model', FIXTURE, '--windows', c.windows.float]), [c.windows.float, 'F32']);
    const out = path.join(tmp, 'out-oov');
    expectRefused(cli(['prune', '--model', FIXTURE, '--method', 'wanda', '--sparsity', '0.5', '--calib-tokens', c.windows.outOfVocab, '--out', out]), [c.windows.outOfVocab, 'token id 9999'], 2);
    expectNothingWritten(out);
  });

  it('binary, NUL, PNG and Latin-1 text is refused by ppl and prune alike', () => {
    for (const [t, why] of [[c.texts.nul, 'NUL bytes'], [c.texts.png, 'PNG image'], [c.texts.latin1, 'not valid UTF-8'], [c.texts.random, 'not valid UTF-8']] as const) {
      expectRefused(cli(['ppl', '--model', FIXTURE, '--text', t, '--seqlen', '32']), [t, why], 2);
      const out = path.join(tmp, 'out-text');
      expectRefused(cli(['prune', '--model', FIXTURE, '--method', 'wanda', '--sparsity', '0.5', '--calib', t, '--nsamples', '2', '--seqlen', '32', '--out', out]), [path.basename(t), why]);
      expectNothingWritten(out);
    }
  });

  it('warnings: fewer layers in config.json, unknown tensors, an ignored model.safetensors, a text shorter than one window', () => {
    expectWarned(cli(['info', '--model', c.models.fewerLayers, '--json']), ['num_hidden_layers 4', 'layer 4']);
    expectWarned(cli(['info', '--model', c.models.extraTensor, '--json']), ["'model.vision_tower.proj.weight'"]);
    expectWarned(cli(['info', '--model', c.models.indexAndSingle, '--json']), ['model.safetensors is ignored']);
    const short = cli(['ppl', '--model', FIXTURE, '--text', c.texts.short, '--seqlen', '32', '--json']);
    expectWarned(short, ['only 3 tokens', 'one full window of 32']);
    expect(JSON.parse(short.stdout).warnings[0]).toContain('only 3 tokens');
  });

  it('symlink loops, a folder named model.safetensors, ftp://, an empty --model', () => {
    expectRefused(cli(['info', '--model', c.models.symlinkLoop]), [c.models.symlinkLoop, 'symbolic link loop'], 1);
    expectRefused(cli(['info', '--model', c.models.configLoop]), [path.join(c.models.configLoop, 'config.json'), 'symbolic link loop'], 1);
    expectRefused(cli(['info', '--model', c.models.safetensorsIsFolder]), [path.join(c.models.safetensorsIsFolder, 'model.safetensors'), 'is a folder'], 1);
    expectRefused(cli(['info', '--model', 'ftp://example.org/model']), ["'ftp://'"], 2);
    expectRefused(cli(['info', '--model', '']), ['--model is empty'], 2);
    const f64 = cli(['info', '--model', c.models.f64]);
    expect(f64.stderr).toContain("'model.layers.0.mlp.up_proj.weight': dtype F64");
    expect(f64.stderr).toContain('F64 weights are not supported; convert them to F32');
    expect(f64.stderr).not.toMatch(/quantized/i);
  });

  it('--out that cannot be written and a huge --nsamples are refused before any work, with the numbers', () => {
    for (const [out, why] of [[path.join(c.regularFile, 'out'), 'is a file'], ['/proc/polyprune/out', '/proc'], ['', 'output path is empty']] as const) {
      const r = cli(prune(FIXTURE, out));
      expectRefused(r, [why], 2);
      expect(r.stderr).not.toMatch(/^layer /m); // nothing ran
    }
    const out = path.join(tmp, 'out-huge');
    const r = cli(prune(FIXTURE, out, ['--nsamples', '1000000000']));
    expectRefused(r, ['1000000000 calibration windows', 'GiB', 'Use at most'], 2);
    expectNothingWritten(out);
  });

  it('option errors print one line and a hint, not the whole help', () => {
    const r = cli(['prune', '--model', FIXTURE, '--nsamples', 'abc']);
    expect(r.code).not.toBe(0);
    const lines = r.stderr.trim().split('\n').filter((l) => !l.startsWith('Warning: '));
    expect(lines).toEqual(["error: option '--nsamples <n>' argument 'abc' is invalid. --nsamples must be an integer >= 1 (got 'abc').", 'hint: polyprune prune --help']);
  });

  it('the default --seqlen is named as the default', () => {
    expectRefused(cli(['ppl', '--model', FIXTURE, '--text', c.texts.good]), ['The default --seqlen 2048', 'give --seqlen 512 or less'], 2);
  });

  it('a stalled model download ends after --stall-timeout naming the URL and the bytes received', async () => {
    const server = await startFaultyServer(FIXTURE, { mode: 'stall', faulty: ['model.safetensors'], after: 1000 });
    try {
      const t0 = Date.now();
      const r = await cliAsync(['info', '--model', `${server.url}/`, '--stall-timeout', '2']);
      expect(Date.now() - t0).toBeLessThan(30_000);
      expectRefused(r, [`${server.url}/model.safetensors`, 'stalled', 'after 1000 of'], 1);
    } finally {
      await server.close();
    }
  });

  it('a download whose connection keeps breaking ends with the file and the bytes received', async () => {
    const server = await startFaultyServer(FIXTURE, { mode: 'close', faulty: ['model.safetensors'], after: 1000 });
    try {
      const r = await cliAsync(['info', '--model', `${server.url}/`]);
      expectRefused(r, [`${server.url}/model.safetensors`, 'broke off 4 times'], 1);
    } finally {
      await server.close();
    }
  });
});

describe('corpus through the engine API (what the app calls)', () => {
  let engine: LocalEngine;
  beforeAll(() => {
    engine = new LocalEngine({ gpu: nodeGpu, politeWait: true, stallTimeoutMs: 2000 });
  });
  afterAll(() => engine.dispose());

  const fds = async (): Promise<number> => (await readdir('/proc/self/fd')).length;

  async function refused(p: Promise<unknown>, code: string, names: string[]): Promise<void> {
    const e = await p.then(
      () => new Error('expected a rejection'),
      (x: unknown) => x,
    );
    expect(e).toBeInstanceOf(PolyPruneError);
    const err = e as PolyPruneError;
    expect(err.code, err.message).toBe(code);
    expect(err.message.split('\n'), err.message).toHaveLength(1);
    for (const n of names) expect(err.message).toContain(n);
  }

  it('loading a broken model fails with one line and leaves no file handle open', async () => {
    await engine.gpuInfo(); // the device's own handles are not ours to count
    const before = await fds();
    await refused(engine.loadModel({ kind: 'folder', folder: dirFolder(c.models.nanWeight) }), 'NON_FINITE', ["'model.layers.2.mlp.up_proj.weight'", '[7, 3]']);
    await refused(engine.loadModel({ kind: 'folder', folder: dirFolder(c.models.nanEmbedding) }), 'NON_FINITE', ["'model.embed_tokens.weight'"]);
    await refused(engine.loadModel({ kind: 'folder', folder: dirFolder(c.models.tokenizerTooBig) }), 'TOKENIZER_INVALID', ['vocab_size is 512']);
    await refused(engine.loadModel({ kind: 'folder', folder: dirFolder(c.models.configLoop) }), 'FILE_NOT_FOUND', ['symbolic link loop']);
    expect(await engine.listModels()).toEqual([]);
    expect(await fds()).toBe(before);
  });

  it('unloading closes the checkpoint; a pruned copy keeps it open until both are unloaded', async () => {
    const before = await fds();
    const m = await engine.loadModel({ kind: 'folder', folder: dirFolder(FIXTURE) });
    expect(m.warnings).toBeUndefined();
    const p = await engine.prune(m.id, { method: 'magnitude', sparsity: 0.5 });
    await engine.unloadModel(m.id);
    expect(await fds()).toBeGreaterThan(before);
    const r = await engine.perplexity(p.model.id, { text: readFileSync(c.texts.good, 'utf8'), seqlen: 32, maxWindows: 1 });
    expect(Number.isFinite(r.ppl)).toBe(true);
    await engine.unloadModel(p.model.id);
    expect(await fds()).toBe(before);
  });

  it('token windows and text: the same checks as the CLI', async () => {
    const m = await engine.loadModel({ kind: 'folder', folder: dirFolder(FIXTURE) });
    try {
      await refused(engine.perplexity(m.id, { windows: { ids: Int32Array.from({ length: 32 }, (_, i) => (i === 9 ? 512 : i)), n: 2, seqlen: 16 }, seqlen: 16 }), 'BAD_ARGUMENT', ['token id 512 at position 9']);
      await refused(engine.perplexity(m.id, { text: '\0'.repeat(4096), textName: 'nul.txt', seqlen: 32 }), 'BAD_ARGUMENT', ["'nul.txt'", 'NUL']);
      await refused(engine.prune(m.id, { method: 'wanda', sparsity: 0.5, calibration: { texts: [{ name: 'x.txt', text: 'hello world' }], nsamples: 1e9, seqlen: 32 } }), 'BAD_ARGUMENT', ['1000000000 calibration windows']);
      for (const [t, why] of [[c.texts.nul, 'NUL'], [c.texts.png, 'PNG'], [c.texts.latin1, 'UTF-8']] as const) {
        expect(() => decodeTextFile(path.basename(t), readFileSync(t))).toThrow(why);
      }
      const short = await engine.perplexity(m.id, { text: 'Once upon a', seqlen: 32 });
      expect(short.warnings?.[0]).toContain('only 3 tokens');
    } finally {
      await engine.unloadModel(m.id);
    }
  });

  it('a stalled model URL fails with FETCH_FAILED naming the URL; a NaN model over HTTP is refused too', async () => {
    const server = await startFaultyServer(FIXTURE, { mode: 'stall', faulty: ['model.safetensors'], after: 1000 });
    try {
      await refused(engine.loadModel({ kind: 'url', url: `${server.url}/` }), 'FETCH_FAILED', [`${server.url}/model.safetensors`, 'stalled']);
    } finally {
      await server.close();
    }
    const nan = await startFaultyServer(c.models.nanWeight, { mode: 'stall', faulty: [], after: 0 });
    try {
      await refused(engine.loadModel({ kind: 'url', url: `${nan.url}/` }), 'NON_FINITE', ["'model.layers.2.mlp.up_proj.weight'"]);
    } finally {
      await nan.close();
    }
  });
});

/**
 * Every malformed input of the corpus (make-corpus.ts, generated from the fixture) through the CLI
 * and through the engine API the app uses. Each must end with a non-zero exit (or a flagged warning),
 * one message line that names the input, no stack trace, no partial output and no open handles.
 * The stall and mid-body-close servers bind 127.0.0.1 and use sub-second stall timeouts.
 */
import { spawn } from 'node:child_process';
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
import { recordShareLink } from '../../src/experiment/share';
import type { ResultRecord } from '../../src/experiment/records';
import { CLI_BIN as BIN, requireCliBundle, runCli } from '../helpers/cli';

let c: Corpus;
let tmp: string;

beforeAll(async () => {
  requireCliBundle();
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
  const r = runCli(args, 120_000);
  return judge(r.code, r.stdout, r.stderr);
}

/** The CLI timed: the run and its wall time in ms. */
function timed(args: string[]): Run & { ms: number } {
  const t0 = Date.now();
  const r = cli(args);
  return { ...r, ms: Date.now() - t0 };
}

/**
 * The CLI as a child we can await while a server runs in this process; `signals` are sent once
 * `when()` holds (polled every 50 ms), `gapMs` apart.
 */
function cliSignalled(args: string[], signals: NodeJS.Signals[], opts: { when: () => boolean; gapMs?: number }): Promise<Run & { msAfterSignal: number }> {
  return new Promise((ok) => {
    const p = spawn(process.execPath, [BIN, ...args]);
    let out = '';
    let err = '';
    let sentAt = 0;
    const send = (): void => {
      if (sentAt) return;
      sentAt = Date.now();
      signals.forEach((sig, i) => setTimeout(() => p.kill(sig), i * (opts.gapMs ?? 0)));
    };
    p.stdout.on('data', (d: Buffer) => (out += d.toString()));
    p.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const poll = setInterval(() => opts.when() && send(), 50);
    const timer = setTimeout(() => p.kill('SIGKILL'), 60_000);
    p.on('close', (code, sig) => {
      clearTimeout(timer);
      clearInterval(poll);
      // killed by a signal (a second Ctrl-C while the process is already ending): what a shell reports, 128 + its number
      ok({ ...judge(code ?? (sig ? 128 + os.constants.signals[sig] : -1), out, err), msAfterSignal: sentAt ? Date.now() - sentAt : -1 });
    });
  });
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

describe('corpus through the CLI: wrong numbers, hangs, Ctrl-C and messages (issue 19)', () => {
  it('a tokenizer that can emit ids outside [0, vocab_size) is refused at load, naming the token', () => {
    const cases: [string, string[]][] = [
      [c.models.tokenizerNegativeId, ["added token '<minus_one>' has id -1", 'whole numbers from 0']],
      [c.models.tokenizerFractionalId, ['has id 1.5', 'whole numbers from 0']],
      [c.models.tokenizerMergeOutside, ["makes '▁qzx', which is not in the vocabulary"]],
      [c.models.wordPieceBpeVocab, ["unk_token '[UNK]' is not in its vocabulary", 'BPE/SentencePiece']],
    ];
    for (const [model, names] of cases) expectRefused(cli(['ppl', '--model', model, '--text', c.texts.good, '--seqlen', '32']), [`${model}/tokenizer.json`, ...names], 1);
  });

  it('num_hidden_layers far beyond the checkpoint is refused before anything is allocated, at once', () => {
    const million = timed(['info', '--model', c.models.layersMillion]);
    expectRefused(million, ['"num_hidden_layers"', 'at most 4096', 'got 1000000'], 1);
    const thousand = timed(['info', '--model', c.models.layersThousand]);
    expectRefused(thousand, ['num_hidden_layers 1000', 'layers 0..4 (5)'], 1);
    expect(million.ms + thousand.ms).toBeLessThan(20_000);
  });

  it('a FIFO without a writer or /dev/zero as text, calibration, task data or tokenizer.json is refused at once', () => {
    const out = path.join(tmp, 'out-fifo');
    const runs: [string[], string[]][] = [
      [['ppl', '--model', FIXTURE, '--text', c.texts.fifo, '--seqlen', '32'], [c.texts.fifo, 'FIFO (named pipe)', 'not a regular file']],
      [['ppl', '--model', FIXTURE, '--text', '/dev/zero', '--seqlen', '32'], ['/dev/zero', 'character device']],
      [['prune', '--model', FIXTURE, '--method', 'wanda', '--sparsity', '0.5', '--calib', c.texts.fifo, '--nsamples', '2', '--seqlen', '32', '--out', out], [c.texts.fifo, 'FIFO']],
      [['eval', '--model', FIXTURE, '--task', 'jsonl', '--data', '/dev/zero'], ['/dev/zero', 'character device']],
    ];
    const t0 = Date.now();
    for (const [args, names] of runs) expectRefused(cli(args), names, 2);
    expectRefused(cli(['info', '--model', c.models.tokenizerFifo]), [path.join(c.models.tokenizerFifo, 'tokenizer.json'), 'FIFO'], 2);
    expect(Date.now() - t0).toBeLessThan(30_000);
    expectNothingWritten(out);
  });

  it('a 12 MB one-line text with --max-windows reads and tokenizes only the start (bounded time)', () => {
    const r = timed(['ppl', '--model', FIXTURE, '--text', c.texts.oneLine, '--seqlen', '32', '--max-windows', '2', '--json']);
    expectWarned(r, ['start of the file']);
    expect(JSON.parse(r.stdout)).toMatchObject({ windows: 2, tokens: 62 });
    expect(r.ms).toBeLessThan(30_000);
  });

  it("calibration text that holds one window but not all end to end is used as wanda's sampler would, with a warning; less than one window is refused", () => {
    const out = path.join(tmp, 'out-overlap');
    const r = cli(['prune', '--model', FIXTURE, '--method', 'wanda', '--sparsity', '0.5', '--calib', c.texts.calibOverlap, '--nsamples', '8', '--seqlen', '64', '--out', out]);
    expectWarned(r, ["'calib-overlap.txt' has", 'fewer than its 8 windows of 64', 'overlap', '% of the text']);
    expect(existsSync(path.join(out, 'model.safetensors'))).toBe(true);
    const short = path.join(tmp, 'out-short');
    expectRefused(cli(['prune', '--model', FIXTURE, '--method', 'wanda', '--sparsity', '0.5', '--calib', c.texts.calibOverlap, '--nsamples', '2', '--seqlen', '500', '--out', short]), ["'calib-overlap.txt' is too short", 'a window of 500 tokens needs at least 501 tokens'], 1);
    expectNothingWritten(short);
  });

  it('a task file whose choices all encode to no tokens is refused naming the items, not scored 0.0000', () => {
    expectRefused(cli(['eval', '--model', FIXTURE, '--task', 'udhr', '--data', c.tasks.zeroScored]), ['No item', "'item-1', 'item-2'", 'no tokens'], 1);
  });

  it('show: impossible values and oversized records are refused by range (file and link), names are printed escaped, a full record stays fast', () => {
    expectRefused(cli(['show', c.records.pplNegative]), [path.basename(c.records.pplNegative), "'result.ppl'", 'a perplexity is at least 1'], 2);
    expectRefused(cli(['show', c.records.sparsityTooHigh]), ["'rows.1.sparsity.0'", 'between 0 and 1'], 2);
    const bad = JSON.parse(readFileSync(c.records.pplNegative, 'utf8')) as ResultRecord;
    expectRefused(cli(['show', recordShareLink(bad, 'http://127.0.0.1:4173/').link]), ['This share link holds no valid result', 'a perplexity is at least 1'], 1);
    expectRefused(cli(['show', c.records.tooManyCells]), ['101 rows x 100 columns', 'more than the 10,000 cells'], 2);
    for (const shown of [cli(['show', c.records.escapes]), cli(['show', recordShareLink(JSON.parse(readFileSync(c.records.escapes, 'utf8')) as ResultRecord, 'http://127.0.0.1:4173/').link])]) {
      expect(shown.code, shown.stderr).toBe(0);
      expect(shown.stdout).not.toContain('\x1b');
      expect(shown.stdout).not.toContain('\x07');
      expect(shown.stdout).toContain('row 1\\u{1b}]0;pwned\\u{7}\\u{1b}[31m');
      expect(shown.stdout).toContain('model\\u{1b}[2J');
    }
    const full = timed(['show', c.records.atCap]);
    expect(full.code, full.stderr).toBe(0);
    expect(full.stdout.split('\n').filter((l) => l.startsWith('| row ')).length).toBe(2 * 99);
    expect(full.ms).toBeLessThan(15_000);
  });

  it('seeds: bad values get one line echoing what was typed and the real limit', () => {
    const eval_ = ['--eval', `${c.texts.good}:en`];
    for (const v of ['-1', 'abc', '1.5']) expectRefused(cli(['grid', '--model', FIXTURE, '--method', 'magnitude', '--sparsity', '0.5', '--seeds', `0,${v}`, ...eval_]), [`--seeds '${v}' is not a seed`, '9007199254740991'], 2);
    expectRefused(cli(['prune', '--model', FIXTURE, '--method', 'magnitude', '--sparsity', '0.5', '--seed', '9007199254740992', '--out', path.join(tmp, 'o')]), ["--seed '9007199254740992' is too large", '2^53 - 1'], 2);
    expectRefused(cli(['prune', '--model', FIXTURE, '--method', 'magnitude', '--sparsity', '0.5', '--seed', '1e20', '--out', path.join(tmp, 'o')]), ["--seed '1e20' is not a seed"], 2);
  });

  it('weights that overflow and a source named twice in --mix say what is wrong', () => {
    const de = path.join(tmp, 'de.txt');
    writeFileSync(de, readFileSync(c.texts.good));
    const out = path.join(tmp, 'out-weights');
    expectRefused(cli(['prune', '--model', FIXTURE, '--method', 'wanda', '--sparsity', '0.5', '--calib', c.texts.good, de, '--calib-weights', '1e308,1e308', '--nsamples', '2', '--seqlen', '32', '--out', out]), ['calibration weights (1e+308, 1e+308) add up to more than'], 2);
    expectNothingWritten(out);
    expectRefused(cli(['mix', '--model', FIXTURE, '--sparsity', '0.5', '--calib', `${c.texts.good}:en`, `${de}:de`, '--mix', 'en=0.3,en=0.7,de=0.5']), ["--mix en=0.3,en=0.7,de=0.5: source 'en' is named twice"], 2);
    expectRefused(cli(['mix', '--model', FIXTURE, '--sparsity', '0.5', '--calib', `${c.texts.good}:en`, `${de}:de`, '--mix', '1e308,1e308']), ['add up to more than'], 2);
  });

  it('grid --out is checked before any work, under the rule prune follows (an existing path is refused)', () => {
    const existing = path.join(tmp, 'existing.json');
    writeFileSync(existing, 'keep me');
    const eval_ = ['--eval', `${c.texts.good}:en`];
    for (const [out, why, exit] of [[existing, 'already exists', 2], [tmp, 'is a folder', 2], ['/proc/version', 'already exists', 2], ['/proc/polyprune.json', 'cannot be written', 2], [path.join(c.regularFile, 'x.json'), 'is a file, not a folder', 2]] as const) {
      const r = cli(['grid', '--model', FIXTURE, '--method', 'magnitude', '--sparsity', '0.5', ...eval_, '--out', out]);
      expectRefused(r, [why], exit);
      expect(r.stderr).not.toMatch(/^load /m); // nothing ran
    }
    expect(readFileSync(existing, 'utf8')).toBe('keep me');
  });

  it('grid --out whose folder disappears during the run: the tables are printed, then one line says where the record could not be written', async () => {
    const dir = mkdtempSync(path.join(tmp, 'vanishing-'));
    const out = path.join(dir, 'rec.json');
    const r = await new Promise<Run>((ok) => {
      const p = spawn(process.execPath, [BIN, 'grid', '--model', FIXTURE, '--method', 'magnitude', '--sparsity', '0.5', '--eval', `${c.texts.good}:en`, '--eval-max-windows', '1', '--eval-seqlen', '32', '--out', out]);
      let o = '';
      let e = '';
      p.stdout.on('data', (d: Buffer) => (o += d.toString()));
      p.stderr.on('data', (d: Buffer) => {
        e += d.toString();
        if (/^load /m.test(e) && existsSync(dir)) rmSync(dir, { recursive: true, force: true });
      });
      p.on('close', (code) => ok(judge(code ?? -1, o, e)));
    });
    expectRefused({ ...r, stdout: '' }, [`Cannot write ${out}`, 'the results are printed above'], 1);
    expect(r.stdout).toContain('perplexity');
    expect(r.stdout).toMatch(/\| dense \(no pruning\) \| \d+\.\d+ \|/);
  });

  it('Ctrl-C while the model downloads: cancelled at once, exit 130 (SIGTERM 143), nothing written; a second Ctrl-C exits at once', async () => {
    const server = await startFaultyServer(FIXTURE, { mode: 'stall', faulty: ['model.safetensors'], after: 1000 });
    try {
      for (const [signals, exit] of [[['SIGINT'], 130], [['SIGTERM'], 143], [['SIGINT', 'SIGINT'], 130]] as const) {
        const out = path.join(tmp, `out-cancel-${signals.length}-${exit}`);
        const before = server.faults; // signalled once the CLI is inside the stalled download
        const r = await cliSignalled(['prune', '--model', `${server.url}/`, '--method', 'magnitude', '--sparsity', '0.5', '--out', out], [...signals], { when: () => server.faults > before, gapMs: 20 });
        const all = `${r.stderr}\n${r.stdout}`;
        expect(r.code, all).toBe(exit);
        expect(r.msAfterSignal, all).toBeGreaterThanOrEqual(0);
        expect(r.msAfterSignal, all).toBeLessThan(5000);
        expect(all).toMatch(/nothing (was|will be) written/);
        expect(all).not.toMatch(/^\s+at .+\(.*\)$/m);
        expect(all).not.toContain('unexpected error');
        expectNothingWritten(out);
      }
    } finally {
      await server.close();
    }
  });

  it('a download that trickles ends at the minimum rate; an endless config.json ends at the JSON cap', async () => {
    const trickle = await startFaultyServer(FIXTURE, { mode: 'trickle', faulty: ['model.safetensors'], after: 1000 });
    try {
      const t0 = Date.now();
      const r = await cliAsync(['info', '--model', `${trickle.url}/`, '--stall-timeout', '1']);
      expectRefused(r, [`${trickle.url}/model.safetensors`, 'too slow', 'below the minimum of 1.0 KiB/s', '--min-rate'], 1);
      expect(Date.now() - t0).toBeLessThan(30_000);
    } finally {
      await trickle.close();
    }
    const endless = await startFaultyServer(FIXTURE, { mode: 'endless', faulty: ['config.json'], after: 0 });
    try {
      const r = await cliAsync(['info', '--model', `${endless.url}/`]);
      expectRefused(r, [`${endless.url}/config.json`, 'larger than 64.0 MiB', "limit for a model's JSON files"], 1);
    } finally {
      await endless.close();
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
    await refused(engine.loadModel({ kind: 'folder', folder: dirFolder(c.models.tokenizerFractionalId) }), 'TOKENIZER_INVALID', ['has id 1.5']);
    await refused(engine.loadModel({ kind: 'folder', folder: dirFolder(c.models.layersThousand) }), 'CHECKPOINT_MISMATCH', ['num_hidden_layers 1000', 'layers 0..4']);
    await refused(engine.loadModel({ kind: 'folder', folder: dirFolder(c.models.tokenizerFifo) }), 'BAD_ARGUMENT', ['FIFO']);
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

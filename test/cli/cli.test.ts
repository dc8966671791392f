import { parseResultRecord } from '../../src/experiment/records';
import { describe, it, expect, beforeAll } from 'vitest';
import { mkdtempSync, writeFileSync, readFileSync, cpSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { FIXTURE, SHARED, requireShared, fixtureMetrics } from '../helpers/fixture';
import { runCli, requireCliBundle } from '../helpers/cli';


const cli = (args: string[]) => runCli(args, 300_000);

let tmp: string;
let evalText: string;
beforeAll(() => {
  requireCliBundle();
  requireShared(FIXTURE);
  tmp = mkdtempSync(path.join(os.tmpdir(), 'polyprune-cli-'));
  // The fixture's eval region: en-US.txt lines 2372..2936 joined with a blank line (fixture README).
  const lines = readFileSync(path.join(SHARED, 'data/text/debian-handbook/en-US.txt'), 'utf8').split('\n');
  evalText = path.join(tmp, 'eval-en.txt');
  writeFileSync(evalText, lines.slice(2371, 2936).join('\n\n'));
});

describe('polyprune CLI', () => {
  it('--help lists the commands', () => {
    const r = cli(['--help']);
    expect(r.code).toBe(0);
    for (const c of ['info', 'ppl']) expect(r.stdout).toContain(c);
  });

  it('info --json prints the architecture', () => {
    const r = cli(['info', '--model', FIXTURE, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j).toMatchObject({ modelType: 'llama', numLayers: 5, hiddenSize: 64, numHeads: 8, numKvHeads: 4, vocabSize: 512, parameters: 260032, dtype: 'F32', checkpointBytes: 1040128 });
  });

  it('ppl on the fixture eval text matches the reference perplexity and bits per byte', () => {
    const r = cli(['ppl', '--model', FIXTURE, '--text', evalText, '--seqlen', '64', '--max-windows', '4', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout);
    const want = fixtureMetrics().variants.dense.eval['eval-en'];
    expect(j.tokens).toBe(252);
    expect(parseResultRecord(j.result)).toMatchObject({ kind: 'perplexity', text: { name: 'eval-en.txt' }, settings: { seqlen: 64, maxWindows: 4 }, result: { ppl: j.ppl, tokens: 252 } });
    expect(j.bytes).toBe(want.target_bytes);
    expect(Math.abs(j.ppl - want.ppl) / want.ppl).toBeLessThan(1e-4);
    expect(Math.abs(j.bitsPerByte - want.bits_per_byte) / want.bits_per_byte).toBeLessThan(1e-4);
  });

  it('ppl --windows scores explicit token windows exactly like the reference', () => {
    const r = cli(['ppl', '--model', FIXTURE, '--windows', path.join(FIXTURE, 'eval-en.safetensors'), '--json']);
    expect(r.code, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout);
    const want = fixtureMetrics().variants.dense.eval['eval-en'];
    expect(j).toMatchObject({ tokens: 252, bytes: 437, windows: 4, seqlen: 64 });
    expect(Math.abs(j.meanNll - want.mean_nll) / want.mean_nll).toBeLessThan(1e-5);
    const both = cli(['ppl', '--model', FIXTURE, '--windows', path.join(FIXTURE, 'eval-en.safetensors'), '--text', evalText]);
    expect(both.code).toBe(2);
    expect(both.stderr).toMatch(/exactly one of --text/);
  });

  it('bad input ends in a clear message and a non-zero exit', () => {
    const missing = cli(['info', '--model', path.join(tmp, 'nope')]);
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toMatch(/config\.json/);

    const tooLong = cli(['ppl', '--model', FIXTURE, '--text', evalText, '--seqlen', '100000']);
    expect(tooLong.code).toBe(2);
    expect(tooLong.stderr).toMatch(/longer than the model's context/);

    const latin1 = path.join(tmp, 'latin1.txt');
    writeFileSync(latin1, Buffer.from([0x63, 0x61, 0x66, 0xe9, 0x20, 0x61, 0x75, 0x20, 0x6c, 0x61, 0x69, 0x74]));
    const enc = cli(['ppl', '--model', FIXTURE, '--text', latin1, '--seqlen', '8']);
    expect(enc.code).toBe(2);
    expect(enc.stderr).toMatch(/not valid UTF-8/);

    const bad = path.join(tmp, 'badmodel');
    cpSync(FIXTURE, bad, { recursive: true });
    const cfg = JSON.parse(readFileSync(path.join(bad, 'config.json'), 'utf8'));
    writeFileSync(path.join(bad, 'config.json'), JSON.stringify({ ...cfg, model_type: 'gpt_neox' }));
    const unsupported = cli(['info', '--model', bad]);
    expect(unsupported.code).not.toBe(0);
    expect(unsupported.stderr).toMatch(/Unsupported model_type 'gpt_neox'.*Supported: llama, mistral, qwen2/);

    const noArg = cli(['ppl', '--model', FIXTURE]);
    expect(noArg.code).not.toBe(0);
    expect(noArg.stderr).toMatch(/--text/);
  });

  it('eval scores XCOPA from ../shared with lm-eval metrics and reports malformed lines', () => {
    const data = requireShared(path.join(SHARED, 'data/tasks/xcopa/data/sw/val.sw.jsonl'));
    const r = cli(['eval', '--model', FIXTURE, '--task', 'xcopa', '--language', 'sw', '--data', data, '--limit', '12', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j).toMatchObject({ kind: 'task', task: 'xcopa', language: 'sw', n: 12 });
    expect(parseResultRecord(j.result)).toMatchObject({ kind: 'task', settings: { task: 'xcopa', language: 'sw', limit: 12 }, file: { name: 'val.sw.jsonl' }, result: { acc: j.acc, n: 12 } });
    for (const k of ['acc', 'acc_norm', 'acc_bytes']) {
      expect(j[k]).toBeGreaterThanOrEqual(0);
      expect(j[k]).toBeLessThanOrEqual(1);
      // lm-eval mean_stderr of a 0/1 variable: sqrt(p(1-p)/(n-1))
      expect(j[`${k}_stderr`]).toBeCloseTo(Math.sqrt((j[k] * (1 - j[k])) / 11), 10);
    }

    const broken = path.join(tmp, 'broken.jsonl');
    writeFileSync(broken, ['{"context": "The cat", "choices": [" sat", " flew"], "label": 0}', '{not json', '{"context": "A dog", "choices": [" ran"], "label": 3}', '{"context": "Once upon", "choices": [" a time", " the"], "label": 0}'].join('\n'));
    const b = cli(['eval', '--model', FIXTURE, '--task', 'jsonl', '--data', broken, '--json']);
    expect(b.code, b.stderr).toBe(0);
    const bj = JSON.parse(b.stdout);
    expect(bj.n).toBe(2);
    expect(bj.warnings.join('\n')).toMatch(/line 2/);
    expect(bj.warnings.join('\n')).toMatch(/line 3/);

    const unknown = cli(['eval', '--model', FIXTURE, '--task', 'nope', '--data', broken]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/Unknown task 'nope'. Supported: xcopa/);
    const named = cli(['eval', '--model', FIXTURE, '--task', 'xcopa_sw', '--data', data, '--limit', '4', '--json']);
    expect(named.code, named.stderr).toBe(0);
    expect(JSON.parse(named.stdout)).toMatchObject({ task: 'xcopa', language: 'sw', n: 4 });

    const empty = path.join(tmp, 'empty.jsonl');
    writeFileSync(empty, '');
    const e = cli(['eval', '--model', FIXTURE, '--task', 'jsonl', '--data', empty]);
    expect(e.code).not.toBe(0);
    expect(e.stderr).toMatch(/empty/i);
  });
});

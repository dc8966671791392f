/**
 * Engine.generate on lavapipe: the K/V-cached greedy continuation equals greedy decoding by full
 * forwards (argmax of the engine's logits over the whole sequence, one forward per token) on the
 * stories260K fixture, on a pruned copy of it and on the bundled multilingual model; seeded sampling
 * is reproducible; the streamed tokens add up to the result; bad settings are refused in one line.
 */
import path from 'node:path';
import { describe, it, expect } from 'vitest';
import type { LocalEngine } from '../../src/engine/local';
import type { GenerateRequest, ModelSummary } from '../../src/engine/api';
import type { ProgressEvent } from '../../src/common/progress';
import { DEFAULT_SAMPLING, argmax, generateBatch, generateTokens, logSoftmax } from '../../src/model/generate';
import { PyRandom } from '../../src/calib/random';
import { dirFolder } from '../../src/io/node';
import { useFixtureEngine } from '../helpers/engine';
import { outcome } from '../helpers/errors';
import { FIXTURE, requireShared } from '../helpers/fixture';
import { write16BitCopies } from '../helpers/bf16';
import type { LlamaModel } from '../../src/model/llama';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';

let engine: LocalEngine;
let base: ModelSummary;
useFixtureEngine((f) => void ({ engine, base } = f));

/** Greedy by full forwards: each step runs the whole sequence and takes the argmax of its last row. */
async function greedyByForwards(id: string, prompt: Int32Array, n: number, V: number): Promise<{ tokens: number[]; logprobs: number[] }> {
  const ids = Array.from(prompt);
  const tokens: number[] = [];
  const logprobs: number[] = [];
  for (let i = 0; i < n; i++) {
    const all = await engine.logits(id, Int32Array.from(ids));
    const last = all.subarray(all.length - V);
    const t = argmax(last);
    tokens.push(t);
    logprobs.push(logSoftmax(last)[t]);
    ids.push(t);
  }
  return { tokens, logprobs };
}

async function checkGreedy(m: ModelSummary, prompt: string, n: number, stepwise: boolean): Promise<void> {
  const r = await engine.generate(m.id, { prompt, maxNewTokens: n, stopAtEos: false });
  const want = stepwise ? await greedyByForwards(m.id, r.promptIds, n, m.vocabSize) : await greedyByOneForward(m.id, r.promptIds, r.tokens, m.vocabSize);
  expect(Array.from(r.tokens)).toEqual(want.tokens);
  r.logprobs.forEach((lp, i) => expect(Math.abs(lp - want.logprobs[i])).toBeLessThan(1e-4));
}

/**
 * The same check in one causal forward over prompt + generated tokens: the argmax of each row from
 * the prompt's last on must be the next generated token (what stepwise greedy gives, as attention is causal).
 */
async function greedyByOneForward(id: string, prompt: Int32Array, got: Int32Array, V: number): Promise<{ tokens: number[]; logprobs: number[] }> {
  const seq = Int32Array.from([...prompt, ...got.subarray(0, got.length - 1)]);
  const all = await engine.logits(id, seq);
  const tokens: number[] = [];
  const logprobs: number[] = [];
  for (let t = prompt.length - 1; t < seq.length; t++) {
    const row = all.subarray(t * V, (t + 1) * V);
    tokens.push(argmax(row));
    logprobs.push(logSoftmax(row)[got[t - prompt.length + 1]]);
  }
  return { tokens, logprobs };
}

/**
 * Greedy decoding with decode steps through nn/matvec (the default) and through the tiled nn/matmul
 * (decodeKernel 'tiled'): the same tokens, logits within 1e-5 of the largest; every linear layer and
 * the output head of a one-token step is one matvec dispatch per weight chunk, no matmul.
 */
async function checkMatvecDecode(m: LlamaModel, prompt: Int32Array, n: number): Promise<void> {
  const run = async (kernel: 'matvec' | 'tiled') => {
    m.decodeKernel = kernel;
    try {
      const cache = m.createKvCache(prompt.length + n);
      const logits: Float32Array[] = [];
      const tokens: number[] = [];
      const counts: Record<string, number>[] = [];
      try {
        logits.push(await m.decodeStep(prompt, cache));
        for (let i = 0; i < n; i++) {
          tokens.push(argmax(logits[i]));
          const before = m.gpu.dispatches();
          logits.push(await m.decodeStep(Int32Array.of(tokens[i]), cache));
          const after = m.gpu.dispatches();
          counts.push(Object.fromEntries(['nn/matvec', 'nn/matmul'].map((k) => [k, (after[k] ?? 0) - (before[k] ?? 0)])));
        }
      } finally {
        cache.destroy();
      }
      return { logits, tokens, counts };
    } finally {
      m.decodeKernel = 'matvec';
    }
  };
  const fast = await run('matvec');
  const tiled = await run('tiled');
  expect(fast.tokens).toEqual(tiled.tokens);
  fast.logits.forEach((row, i) => {
    let scale = 0;
    let diff = 0;
    for (let j = 0; j < row.length; j++) {
      scale = Math.max(scale, Math.abs(tiled.logits[i][j]));
      diff = Math.max(diff, Math.abs(row[j] - tiled.logits[i][j]));
    }
    expect(diff, `step ${i}`).toBeLessThanOrEqual(1e-5 * scale);
  });
  const chunks = (x: { chunks: readonly unknown[] }) => x.chunks.length;
  const layer = await m.layer(0);
  const perLayer = Object.values(layer.linears).reduce((a, x) => a + chunks(x), 0);
  expect(fast.counts[0]).toEqual({ 'nn/matvec': m.cfg.numLayers * perLayer + chunks(m.head), 'nn/matmul': 0 });
  expect(tiled.counts[0]).toEqual({ 'nn/matvec': 0, 'nn/matmul': m.cfg.numLayers * perLayer + chunks(m.head) });
}

describe('Engine.generate with the K/V cache', () => {
  it('greedy equals greedy by full forwards (stories260K), and the prompt is BOS + its tokens', async () => {
    await checkGreedy(base, 'Once upon a time', 24, true);
    const r = await engine.generate(base.id, { prompt: 'Once upon a time', maxNewTokens: 2 });
    expect(r.promptIds[0]).toBe(1);
    expect(Array.from(r.promptIds.subarray(1))).toEqual(Array.from(await engine.tokenize(base.id, 'Once upon a time')));
  });

  it('greedy equals full forwards on a pruned copy, and the empty prompt is BOS alone', async () => {
    const pruned = await engine.prune(base.id, { method: 'magnitude', sparsity: 0.5 });
    await checkGreedy(pruned.model, '', 16, false);
    const r = await engine.generate(pruned.model.id, { prompt: '', maxNewTokens: 1 });
    expect(Array.from(r.promptIds)).toEqual([1]);
    await engine.unloadModel(pruned.model.id);
  });

  it('greedy equals full forwards on the bundled multilingual model (German prompt)', async () => {
    const ml = await engine.loadModel({ kind: 'folder', folder: dirFolder(path.resolve('public/models/polyprune-ml')) });
    try {
      await checkGreedy(ml, 'Alle Menschen sind frei und gleich', 6, false);
      await checkMatvecDecode(engine.get(ml.id).model, (await engine.generate(ml.id, { prompt: 'Das ist', maxNewTokens: 1, checkOnly: true })).promptIds, 4);
    } finally {
      await engine.unloadModel(ml.id);
    }
  });

  it('seeded sampling is reproducible; streamed tokens add up to the result', async () => {
    const req: GenerateRequest = { prompt: 'The cat', maxNewTokens: 20, temperature: 1, topK: 40, topP: 0.9, seed: 7, stopAtEos: false };
    const events: ProgressEvent[] = [];
    const a = await engine.generate(base.id, req, { onProgress: (e) => events.push(e) });
    const b = await engine.generate(base.id, req);
    expect(Array.from(b.tokens)).toEqual(Array.from(a.tokens));
    expect(b.text).toBe(a.text);
    const c = await engine.generate(base.id, { ...req, seed: 8 });
    expect(Array.from(c.tokens)).not.toEqual(Array.from(a.tokens));
    const toks = events.filter((e): e is Extract<ProgressEvent, { kind: 'token' }> => e.kind === 'token');
    expect(toks.map((e) => e.token)).toEqual(Array.from(a.tokens));
    expect(toks.map((e) => e.text).join('')).toBe(a.text);
    expect(a.logprobs.every((x) => Number.isFinite(x) && x <= 0)).toBe(true);
    expect(a.settings).toMatchObject({ temperature: 1, topK: 40, topP: 0.9, seed: 7, maxNewTokens: 20 });
  });

  it('stops at an EOS token and keeps it as the last token', async () => {
    // The fixture never writes its EOS early (TinyStories separates stories by BOS), so the third
    // greedy token plays EOS here, through the same loop the engine runs.
    const m = engine.get(base.id).model;
    const prompt = Int32Array.of(1, 403);
    const free = await generateTokens(m, prompt, new PyRandom(0), { maxNewTokens: 6, sampling: DEFAULT_SAMPLING, eos: new Set() });
    const stop = free.tokens[2];
    const r = await generateTokens(m, prompt, new PyRandom(0), { maxNewTokens: 6, sampling: DEFAULT_SAMPLING, eos: new Set([stop]) });
    expect(r.stopReason).toBe('eos');
    expect(Array.from(r.tokens)).toEqual(Array.from(free.tokens.subarray(0, free.tokens.indexOf(stop) + 1)));
  });

  it('a batch of sampled sequences equals each sequence generated alone', async () => {
    const m = engine.get(base.id).model;
    const sampling = { temperature: 1, topK: 0, topP: 1, seed: 0, repetitionPenalty: 1.1 };
    const prompt = Int32Array.of(1, 403);
    const o = { maxNewTokens: 10, sampling, eos: new Set<number>() };
    const batch = await generateBatch(m, prompt, { ...o, rngs: [3, 4, 5].map((s) => new PyRandom(s)) });
    const alone = await generateBatch(m, prompt, { ...o, rngs: [new PyRandom(4)] });
    expect(Array.from(batch[1].tokens)).toEqual(Array.from(alone[0].tokens));
    batch[1].logprobs.forEach((lp, i) => expect(Math.abs(lp - alone[0].logprobs[i])).toBeLessThan(1e-4));
    expect(Array.from(batch[0].tokens)).not.toEqual(Array.from(batch[1].tokens));
  });

  it('decode steps run the few-rows matvec kernel: the same greedy tokens and logits as the tiled matmul (stories260K f32 and bf16)', async () => {
    const m = engine.get(base.id).model;
    await checkMatvecDecode(m, Int32Array.of(1, 403, 2125 % m.cfg.vocabSize), 12);
    const dir = mkdtempSync(path.join(tmpdir(), 'polyprune-decode-'));
    try {
      const { packed } = await write16BitCopies(requireShared(FIXTURE), dir, 'BF16', false);
      const bf = await engine.loadModel({ kind: 'folder', folder: dirFolder(packed) });
      await checkMatvecDecode(engine.get(bf.id).model, Int32Array.of(1, 403), 12);
      await engine.unloadModel(bf.id);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses bad settings in one line with BAD_ARGUMENT', async () => {
    const gen = (o: Partial<GenerateRequest>) => outcome(engine.generate(base.id, { prompt: 'Hi', maxNewTokens: 4, ...o }));
    expect(await gen({ maxNewTokens: 0 })).toMatch(/^BAD_ARGUMENT: Max new tokens 0 is out of range: give a whole number from 1 to 509 /);
    expect(await gen({ maxNewTokens: 600 })).toMatch(/^BAD_ARGUMENT: Max new tokens 600 is too many: .* context of 512 tokens; give at most 509\.$/);
    expect(await gen({ temperature: -1 })).toMatch(/^BAD_ARGUMENT: Temperature -1 is out of range/);
    expect(await gen({ temperature: Number.NaN })).toMatch(/^BAD_ARGUMENT: Temperature NaN/);
    expect(await gen({ topP: 0 })).toMatch(/^BAD_ARGUMENT: Top-p 0 is out of range/);
    expect(await gen({ topK: 1.5 })).toMatch(/^BAD_ARGUMENT: Top-k 1.5 is out of range/);
    expect(await gen({ seed: -1 })).toMatch(/^BAD_ARGUMENT: Seed -1 is out of range/);
    expect(await gen({ promptIds: new Int32Array(0) })).toMatch(/^BAD_ARGUMENT: The prompt ids are empty/);
    expect(await gen({ promptIds: Int32Array.of(1, 9999) })).toMatch(/^BAD_ARGUMENT: prompt: token id 9999 at position 1 is outside the vocabulary/);
    for (const o of [{ maxNewTokens: 0 }, { temperature: -1 }]) expect((await gen(o)).split('\n')).toHaveLength(1);
  });
});

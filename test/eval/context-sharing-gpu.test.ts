/**
 * Context sharing on the WGSL engine: the choices of one item that share a context run the context
 * once (its keys/values kept per layer), and every choice's log-likelihood equals the full-sequence
 * path. Checked on the stories260K fixture (resident, streamed, small batches) and the bundled
 * default model, with real XCOPA, UDHR and XWinograd items (XWinograd shares the continuation, not
 * the context, so nothing is shared there).
 */
import { readFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gpuScorer } from '../../src/engine/perplexity';
import { computeLoglikelihoods } from '../../src/eval/loglikelihood';
import { parseTask } from '../../src/eval/tasks/index';
import type { EvalTokenizer, LlRequest, McItem } from '../../src/eval/types';
import type { Gpu } from '../../src/gpu/device';
import { loadModelConfig } from '../../src/io/config';
import { dirFolder } from '../../src/io/node';
import { openCheckpoint } from '../../src/io/safetensors';
import { loadTokenizerFromFolder } from '../../src/io/tokenizer';
import { LlamaModel } from '../../src/model/llama';
import { writeCohereCheckpoint } from '../helpers/cohere';
import { fixtureCheckpoint } from '../helpers/fixture';
import { testGpu } from '../helpers/gpu';
import { sharedText } from './helpers';

const requestsOf = (items: McItem[]): LlRequest[] => items.flatMap((it) => it.requests);

/** Score with and without sharing; every log-likelihood must agree to 1e-5 relative. */
async function compare(model: LlamaModel, tok: EvalTokenizer, reqs: LlRequest[], opts: { batchTokens?: number } = {}) {
  const scorer = gpuScorer(model);
  const full = await computeLoglikelihoods(reqs, tok, scorer, { ...opts, shareContext: false });
  const shared = await computeLoglikelihoods(reqs, tok, scorer, opts);
  expect(full.sharedContexts).toBe(0);
  const bad: string[] = [];
  shared.results.forEach((r, i) => {
    const want = full.results[i].logLikelihood;
    expect(r.tokens).toBe(full.results[i].tokens);
    if (!(Math.abs(r.logLikelihood - want) <= 1e-5 * Math.abs(want)) || !Number.isFinite(r.logLikelihood)) bad.push(`request ${i}: shared ${r.logLikelihood} full ${want}`);
  });
  expect(bad, bad.slice(0, 5).join('; ')).toEqual([]);
  expect(full.results.some((r) => r.logLikelihood < 0)).toBe(true);
  return { full, shared };
}

describe('context sharing on stories260K', () => {
  let gpu: Gpu;
  let model: LlamaModel;
  let tok: EvalTokenizer;
  beforeAll(async () => {
    gpu = await testGpu();
    const { folder, cfg, ckpt } = await fixtureCheckpoint();
    model = await LlamaModel.load(gpu, cfg, ckpt);
    tok = await loadTokenizerFromFolder(folder);
  });
  afterAll(() => model?.destroy());

  it('XCOPA and UDHR items: the context runs once per item, log-likelihoods equal the full run', { timeout: 300_000 }, async () => {
    const xcopa = parseTask('xcopa', sharedText('data/tasks/xcopa/data/it/test.it.jsonl'), { language: 'it' }).items.slice(0, 12);
    const udhr = parseTask('udhr', readFileSync(resolve('public/data/udhr/en.json'), 'utf8')).items.slice(0, 6);
    const reqs = [...requestsOf(xcopa), ...requestsOf(udhr)];
    const { full, shared } = await compare(model, tok, reqs);
    // One group per item (choices that tokenize alike are deduplicated first and may leave an item unshared).
    expect(shared.sharedContexts).toBeGreaterThanOrEqual(15);
    expect(shared.sharedContexts).toBeLessThanOrEqual(18);
    expect(shared.forwardTokens).toBeLessThan(full.forwardTokens);
    // Several batches: groups split over calls still agree.
    await compare(model, tok, reqs, { batchTokens: 64 });
  });

  it('XWinograd: the two options of an item differ in context (nothing shared there); twin sentences share a context', { timeout: 300_000 }, async () => {
    const items = parseTask('xwinograd', sharedText('data/tasks/xwinograd/xwinograd.en.jsonl')).items.slice(0, 8);
    const reqs = requestsOf(items);
    for (const it of items) expect(it.requests[0].context).not.toBe(it.requests[1].context);
    // lm-eval sends one context per option and one shared continuation; the schema's twin sentences
    // (same start, different ending) give the same context with different continuations.
    const conts = new Map<string, Set<string>>();
    for (const r of reqs) conts.set(r.context, (conts.get(r.context) ?? new Set()).add(r.continuation));
    const expected = [...conts.values()].filter((c) => c.size >= 2).length;
    const { shared, full } = await compare(model, tok, reqs);
    expect(shared.sharedContexts).toBe(expected);
    expect(shared.forwardTokens).toBeLessThanOrEqual(full.forwardTokens);
  });

  it('tokenNllShared equals the tail of tokenNll: small budgets, split groups, one-token prefixes, streamed layers', { timeout: 300_000 }, async () => {
    const seq = (n: number, seed: number) => Int32Array.from({ length: n }, (_, i) => ((i * 37 + seed * 101) % 500) + 3);
    const groups = [
      { prefix: seq(20, 1), suffixes: [seq(3, 2), seq(7, 3), seq(1, 4), seq(5, 5)] },
      { prefix: seq(1, 6), suffixes: [seq(4, 7), seq(2, 8)] }, // nothing to share: runs whole
      { prefix: seq(9, 9), suffixes: [seq(6, 10), seq(6, 11), seq(2, 12)] },
      { prefix: seq(30, 13), suffixes: [seq(3, 14), seq(3, 15)] }, // fills a batch of 32 on its own
    ];
    const want = await Promise.all(
      groups.map((g) =>
        model.tokenNll(g.suffixes.map((s) => Int32Array.from([...g.prefix, ...s]))).then((r) => r.map((v, i) => v.slice(v.length - g.suffixes[i].length))),
      ),
    );
    const { cfg, ckpt } = await fixtureCheckpoint();
    const streamed = await LlamaModel.load(gpu, cfg, ckpt, { resident: false });
    try {
      for (const [m, maxTokens] of [
        [model, 32],
        [model, undefined],
        [streamed, 32],
      ] as const) {
        const got = await m.tokenNllShared(groups, { maxTokens });
        got.forEach((g, gi) => g.forEach((v, i) => expect(Array.from(v), `group ${gi} suffix ${i} (maxTokens ${maxTokens})`).toEqual(Array.from(want[gi][i]))));
      }
      // A context longer than one forward can hold is refused with the forward's own message.
      await expect(model.tokenNllShared(groups, { maxTokens: 24 })).rejects.toMatchObject({ code: 'BAD_ARGUMENT', message: expect.stringMatching(/33 tokens exceeds what one forward can hold here \(24\)/) });
      // Nothing is left behind (the RoPE tables of these lengths are cached by now).
      const live = gpu.memory().liveTensors;
      await model.tokenNllShared(groups, { maxTokens: 32 });
      expect(gpu.memory().liveTensors).toBe(live);
    } finally {
      streamed.destroy();
    }
  });
});

describe('context sharing on other models', () => {
  it('the bundled default model (XCOPA sw, UDHR de): equal to the full run', { timeout: 600_000 }, async () => {
    const gpu = await testGpu();
    const folder = dirFolder(resolve('public/models/polyprune-ml'));
    const model = await LlamaModel.load(gpu, await loadModelConfig(folder), await openCheckpoint(folder));
    try {
      const tok = await loadTokenizerFromFolder(folder);
      const xcopa = parseTask('xcopa', sharedText('data/tasks/xcopa/data/sw/test.sw.jsonl'), { language: 'sw' }).items.slice(0, 6);
      const udhr = parseTask('udhr', readFileSync(resolve('public/data/udhr/de.json'), 'utf8')).items.slice(0, 2);
      const { shared } = await compare(model, tok, [...requestsOf(xcopa), ...requestsOf(udhr)]);
      expect(shared.sharedContexts).toBeGreaterThanOrEqual(7);
    } finally {
      model.destroy();
    }
  });

  it('a Cohere model (parallel block, q/k norm, paired RoPE): equal to the full run', { timeout: 300_000 }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pp-cohere-share-'));
    try {
      writeCohereCheckpoint(dir, { hidden: 64, ffn: 96, layers: 2, heads: 4, kvHeads: 2, vocab: 512, qkNorm: true, logitScale: 0.5 });
      const gpu = await testGpu();
      const folder = dirFolder(dir);
      const model = await LlamaModel.load(gpu, await loadModelConfig(folder), await openCheckpoint(folder));
      try {
        const tok = await loadTokenizerFromFolder(folder);
        const xcopa = parseTask('xcopa', sharedText('data/tasks/xcopa/data/it/test.it.jsonl'), { language: 'it' }).items.slice(0, 6);
        const { shared } = await compare(model, tok, requestsOf(xcopa));
        expect(shared.sharedContexts).toBeGreaterThanOrEqual(5);
      } finally {
        model.destroy();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

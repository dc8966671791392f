import { describe, expect, it } from 'vitest';
import { aggregatePerplexity, perplexityWindows, scorePerplexity, type PplWindow } from '../../src/eval/perplexity';
import { parseEvalRecord } from '../../src/eval/results';
import { fixtureWindows } from '../helpers/fixture';
import { cpuScorer, fakeScorer, fixtureModel, fixtureTokenizer, type FixtureTokenizer } from './helpers';

const seq = (n: number, from = 100) => Int32Array.from({ length: n }, (_, i) => from + i);

/** Stream positions each window predicts (window-local scoreFrom..n-1 shifted by start). */
function predicted(ws: PplWindow[]): number[] {
  return ws.flatMap((w) => Array.from({ length: w.tokens.length - w.scoreFrom }, (_, k) => w.start + w.scoreFrom + k));
}

/**
 * lm-eval's loglikelihood_rolling windows, restated from lm_eval/utils.py (get_rolling_token_windows
 * with context_len = 1, then make_disjoint_window) and _loglikelihood_tokens' left cut: each window
 * as (full scored sequence, number of scored tokens).
 */
function lmEvalRolling(tokens: number[], prefix: number, maxLen: number): { seq: number[]; scored: number }[] {
  const out: { seq: number[]; scored: number }[] = [];
  const first = Math.min(maxLen, tokens.length);
  out.push({ seq: [prefix, ...tokens.slice(0, first)], scored: first });
  let done = first;
  while (done < tokens.length) {
    const predLen = Math.min(tokens.length - done, maxLen);
    const end = done + predLen;
    const ctx = tokens.slice(Math.max(0, end - maxLen - 1), end - 1);
    const target = tokens.slice(end - predLen, end);
    const disjointCtx = ctx.slice(0, ctx.length - (target.length - 1));
    out.push({ seq: [...disjointCtx, ...target].slice(-(maxLen + 1)), scored: target.length });
    done += predLen;
  }
  return out;
}

describe('perplexityWindows', () => {
  it('chunks: non-overlapping windows predicting tokens 1..n-1; remainder kept or dropped', () => {
    const ws = perplexityWindows(seq(10), { seqLen: 4, mode: 'chunks' });
    expect(ws.map((w) => [w.start, w.tokens.length, w.scoreFrom])).toEqual([
      [0, 4, 1],
      [4, 4, 1],
      [8, 2, 1],
    ]);
    expect(predicted(ws)).toEqual([1, 2, 3, 5, 6, 7, 9]);
    expect(perplexityWindows(seq(10), { seqLen: 4, mode: 'chunks', dropRemainder: true })).toHaveLength(2);
    expect(perplexityWindows(seq(9), { seqLen: 4, mode: 'chunks' })).toHaveLength(2); // a 1-token remainder predicts nothing
  });

  it('sliding: every token after the first predicted exactly once, each with as much context as fits', () => {
    for (const [L, W, S] of [
      [10, 4, 2],
      [37, 8, 3],
      [37, 8, 7],
      [5, 8, 4],
      [64, 16, 1],
    ]) {
      const ws = perplexityWindows(seq(L), { seqLen: W, mode: 'sliding', stride: S });
      expect(predicted(ws)).toEqual(Array.from({ length: L - 1 }, (_, i) => i + 1));
      for (const w of ws) {
        expect(w.tokens.length).toBeLessThanOrEqual(W);
        expect(Array.from(w.tokens)).toEqual(Array.from(seq(L).slice(w.start, w.start + w.tokens.length)));
        // Later windows are always full: the context before the new tokens is as long as fits.
        if (w.start > 0) expect(w.tokens.length).toBe(W);
      }
    }
    const ws = perplexityWindows(seq(10), { seqLen: 4, mode: 'sliding', stride: 2 });
    expect(ws.map((w) => [w.start, w.tokens.length, w.scoreFrom])).toEqual([
      [0, 4, 1],
      [2, 4, 2],
      [4, 4, 2],
      [6, 4, 2],
    ]);
  });

  it("sliding with a prefix token, seqLen = L + 1 and stride = L reproduces lm-eval's rolling windows", () => {
    for (const [n, L] of [
      [1, 4],
      [4, 4],
      [11, 4],
      [50, 7],
    ]) {
      const ids = seq(n);
      const ours = perplexityWindows(ids, { seqLen: L + 1, mode: 'sliding', stride: L, prefixTokenId: 1 }).map((w) => ({
        seq: Array.from(w.tokens),
        scored: w.tokens.length - w.scoreFrom,
      }));
      expect(ours).toEqual(lmEvalRolling(Array.from(ids), 1, L));
    }
  });

  it('rejects bad options', () => {
    expect(() => perplexityWindows(seq(5), { seqLen: 1, mode: 'chunks' })).toThrow(/seqLen must be an integer >= 2/);
    expect(() => perplexityWindows(seq(5), { seqLen: 4, mode: 'sliding', stride: 4 })).toThrow(/stride must be an integer in 1..3/);
    expect(() => perplexityWindows(seq(5), { seqLen: 4, mode: 'x' as 'chunks' })).toThrow(/mode must be/);
  });
});

describe('aggregation', () => {
  it('sums the counted NLLs only; bits per byte from a per-token table or from the text bytes', () => {
    const ws = perplexityWindows(seq(6, 0), { seqLen: 3, mode: 'chunks' }); // [0,1,2] [3,4,5]
    const nlls = [Float32Array.of(1, 2), Float32Array.of(3, 4)];
    const table = Uint32Array.from({ length: 6 }, (_, i) => i + 1); // token i covers i + 1 bytes
    const st = aggregatePerplexity(ws, nlls, { tokenBytes: table });
    expect(st.tokens).toBe(4);
    expect(st.totalNll).toBe(10);
    expect(st.meanNll).toBe(2.5);
    expect(st.ppl).toBeCloseTo(Math.exp(2.5), 12);
    expect(st.bytes).toBe(2 + 3 + 5 + 6);
    expect(st.bitsPerByte).toBeCloseTo(10 / Math.LN2 / 16, 12);
    expect(aggregatePerplexity(ws, nlls, { textBytes: 20 }).bitsPerByte).toBeCloseTo(10 / Math.LN2 / 20, 12);
    expect(aggregatePerplexity(ws, nlls).bitsPerByte).toBeNull();
    expect(() => aggregatePerplexity(ws, [Float32Array.of(1)])).toThrow(/NLL arrays/);
  });

  it('scorePerplexity checks the window against the scorer context and batches windows', async () => {
    const scorer = fakeScorer(7);
    await expect(scorePerplexity(seq(20), scorer, { language: 'en', seqLen: 9, mode: 'chunks' })).rejects.toThrow(/exceeds the scorer's maxContext \+ 1 = 8/);
    const r = await scorePerplexity([seq(20), seq(5)], scorer, { language: 'en', seqLen: 8, mode: 'sliding', stride: 4, batchWindows: 2 });
    expect(r.tokens).toBe(19 + 4);
    expect(scorer.calls.every((c) => c.length <= 2)).toBe(true);
    expect(r.bitsPerByte).toBeNull();
  });
});

/** Bytes of source text per token id, by the rule in the fixture README: <0xXX> 1, '▁' a space, specials 0. */
function tokenBytes(tok: FixtureTokenizer): Uint32Array {
  const vocab = tok.json.model.vocab;
  const out = new Uint32Array(Math.max(...Object.values(vocab)) + 1);
  const enc = new TextEncoder();
  for (const [piece, id] of Object.entries(vocab)) out[id] = /^<0x[0-9A-F]{2}>$/.test(piece) ? 1 : enc.encode(piece.replaceAll('\u2581', ' ')).length;
  for (const t of tok.json.added_tokens) out[t.id] = 0;
  return out;
}

describe('golden: stories260K dense eval-en perplexity (fixture metrics.json)', () => {
  it('4 non-overlapping 64-token windows: mean NLL 3.652492, ppl 38.5707, 437 target bytes, 3.038666 bits/byte', async () => {
    const m = await fixtureModel();
    const { ids, n, seqlen } = await fixtureWindows('eval-en.safetensors');
    expect([n, seqlen]).toEqual([4, 64]);
    const tok = fixtureTokenizer();
    const r = await scorePerplexity(ids, cpuScorer(m, 64), { language: 'en', seqLen: 64, mode: 'chunks', tokenBytes: tokenBytes(tok) });
    expect(r.windows).toBe(4);
    expect(r.tokens).toBe(252);
    expect(r.bytes).toBe(437);
    expect(r.meanNll).toBeCloseTo(3.6524921270214397, 5);
    expect(r.ppl).toBeCloseTo(38.570669380494735, 3);
    expect(r.bitsPerByte).toBeCloseTo(3.0386657532998465, 5);
    expect(r.totalNll).toBeCloseTo(920.4280160094028, 2);
    const { totalNll: _t, windows: _w, ...record } = r;
    expect(parseEvalRecord(record)).toEqual(record);
  });
});

/**
 * Scorer calls sized by time (src/common/pace.ts): on a slow scorer (a CPU adapter) each call takes
 * about the target, so the abort signal is seen and progress reported within it, where one call of
 * the usual 4096 tokens would take many times longer; the numbers are the same as unpaced.
 */
import { describe, expect, it } from 'vitest';
import { computeLoglikelihoods } from '../../src/eval/loglikelihood';
import { Pacer } from '../../src/common/pace';
import { scorePerplexity } from '../../src/eval/perplexity';
import type { SequenceScorer } from '../../src/eval/types';

/** A scorer that spends `usPerToken` microseconds per token (busy waiting) and returns fixed NLLs. */
function slowScorer(usPerToken: number, calls: number[]): SequenceScorer {
  const spend = (tokens: number) => {
    const until = performance.now() + (tokens * usPerToken) / 1000;
    while (performance.now() < until) {
      /* busy */
    }
  };
  return {
    maxContext: 512,
    async tokenNll(seqs) {
      const tokens = seqs.reduce((a, s) => a + s.length, 0);
      calls.push(tokens);
      spend(tokens);
      await new Promise((r) => setTimeout(r, 0));
      return seqs.map((s) => Float32Array.from({ length: s.length - 1 }, (_, j) => 0.5 + ((s[j + 1] * 7) % 13) / 10));
    },
  };
}

describe('Pacer', () => {
  it('sizes the next call to the target time, within the cap, growing at most 4x a call', () => {
    const p = new Pacer(1000, 256);
    expect(p.tokens(4096)).toBe(256);
    p.took(256, 2000); // 0.128 tokens/ms: a second is 128 tokens
    expect(p.tokens(4096)).toBe(128);
    p.took(128, 1); // very fast: growth capped at 4x
    expect(p.tokens(4096)).toBe(512);
    expect(p.tokens(100)).toBe(100);
  });

  it('perplexity on a slow scorer: calls of about the target time, counters after each, the same numbers as unpaced', async () => {
    const stream = Int32Array.from({ length: 64 * 40 }, (_, i) => (i * 31) % 97);
    const paced: number[] = [];
    const plain: number[] = [];
    const progress: number[] = [];
    // 20 us per token: the usual batch (64 windows of 64 = 4096 tokens) would take 82 ms; the target is 15 ms.
    const pace = new Pacer(15, 64);
    const a = await scorePerplexity(stream, slowScorer(20, paced), { language: 'x', seqLen: 64, mode: 'chunks', pace, onProgress: (e) => e.kind === 'eval' && progress.push(e.done) });
    const b = await scorePerplexity(stream, slowScorer(20, plain), { language: 'x', seqLen: 64, mode: 'chunks' });
    expect(a.ppl).toBe(b.ppl);
    expect(plain).toEqual([40 * 64]);
    expect(paced.length).toBeGreaterThan(4);
    expect(Math.max(...paced.slice(1))).toBeLessThanOrEqual(4 * 64 * 4);
    expect(progress[0]).toBe(0);
    expect(progress.at(-1)).toBe(40);
    expect(progress.length).toBe(paced.length + 1);
  });

  it('an abort during task scoring is seen after the running call, not after the whole batch', async () => {
    const calls: number[] = [];
    const requests = Array.from({ length: 200 }, (_, i) => ({ context: `c${i} `.repeat(20), continuation: ` x${i}` }));
    const tok = { encode: (t: string) => Int32Array.from(Array.from(t).map((ch) => ch.charCodeAt(0) % 97)) };
    const ctrl = new AbortController();
    const pace = new Pacer(10, 64);
    setTimeout(() => ctrl.abort(), 30);
    const e = await computeLoglikelihoods(requests, tok, slowScorer(40, calls), { pace, signal: ctrl.signal }).catch((x: unknown) => x);
    expect((e as { code?: string }).code).toBe('CANCELLED');
    // unpaced, the first call alone would be 4096 tokens (x 40 us = 164 ms); paced, everything scored
    // before the abort was seen is less than that (counted in tokens, not timed: a loaded machine)
    expect(calls.reduce((a, b) => a + b, 0)).toBeLessThan(4096);
    expect(Math.max(...calls)).toBeLessThan(4096);
  });
});

import { describe, expect, it } from 'vitest';
import { argmax, chooseToken, decodeProblem, logitDiff, newText, tokenLogProb, type DecodeSettings } from './decoding';

const greedy: DecodeSettings = { mode: 'greedy', temperature: 1, topK: 0, topP: 1, seed: 0, maxNewTokens: 20 };
const sample: DecodeSettings = { ...greedy, mode: 'sample' };

/** A seeded uniform generator for the tests (mulberry32). */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('decodeProblem', () => {
  it('accepts good settings and names what is wrong in one line', () => {
    expect(decodeProblem(greedy, 256, 10, 8192)).toBeNull();
    expect(decodeProblem({ ...sample, temperature: 0.7, topK: 50, topP: 0.9, seed: 3 }, 256, 10, 8192)).toBeNull();
    expect(decodeProblem({ ...greedy, maxNewTokens: 0 }, 256, 10)).toBe("Max new tokens must be a whole number from 1 to 246 (the model's context is 256 tokens, the prompt takes 10).");
    expect(decodeProblem({ ...greedy, maxNewTokens: 247 }, 256, 10)).toContain('from 1 to 246');
    expect(decodeProblem({ ...greedy, maxNewTokens: NaN }, 256)).toContain('from 1 to 255');
    expect(decodeProblem({ ...greedy, maxNewTokens: 2.5 }, 256)).toContain('whole number');
    expect(decodeProblem(greedy, 256, 256)).toBe("The prompt is 256 tokens with BOS; the model's context is 256 tokens: shorten the prompt.");
    // Sampling settings are checked only when sampling.
    expect(decodeProblem({ ...greedy, temperature: 0 }, 256)).toBeNull();
    for (const t of [0, -1, NaN, 11, Infinity]) expect(decodeProblem({ ...sample, temperature: t }, 256)).toContain('Temperature must be a number above 0 and at most 10');
    for (const k of [-1, 1.5, NaN, 8193]) expect(decodeProblem({ ...sample, topK: k }, 256, 1, 8192)).toBe('Top-k must be a whole number from 0 (off) to 8192.');
    for (const p of [0, -0.1, 1.01, NaN]) expect(decodeProblem({ ...sample, topP: p }, 256)).toBe('Top-p must be a number above 0 and at most 1 (1: off).');
    for (const s of [-1, 0.5, 2 ** 32, NaN]) expect(decodeProblem({ ...sample, seed: s }, 256)).toBe('Seed must be a whole number from 0 to 4294967295.');
  });
});

describe('chooseToken', () => {
  const logits = Float32Array.from([0.5, 2.0, -1, 1.9, 2.0, 0]);
  it('greedy takes the first largest logit', () => {
    expect(argmax(logits)).toBe(1);
    expect(chooseToken(logits, greedy, () => 0.99)).toBe(1);
  });

  it('top-k 1 and a tiny top-p leave only the most likely token', () => {
    for (let i = 0; i < 20; i++) {
      const r = rng(i);
      expect(chooseToken(logits, { ...sample, topK: 1 }, r)).toBe(1);
      expect(chooseToken(logits, { ...sample, topP: 1e-6 }, r)).toBe(1);
    }
  });

  it('draws from softmax(logits / T) restricted to top-k, and the same seed gives the same tokens', () => {
    const T = 0.7;
    const n = 20000;
    const counts = new Array<number>(logits.length).fill(0);
    const r = rng(7);
    for (let i = 0; i < n; i++) counts[chooseToken(logits, { ...sample, temperature: T, topK: 3 }, r)]++;
    const kept = [1, 4, 3]; // the three largest (1 and 4 tie; the lower index first)
    const w = kept.map((i) => Math.exp(logits[i] / T));
    const z = w.reduce((a, b) => a + b, 0);
    for (const [j, i] of kept.entries()) expect(Math.abs(counts[i] / n - w[j] / z)).toBeLessThan(0.015);
    for (const i of [0, 2, 5]) expect(counts[i]).toBe(0);
    const a = rng(3);
    const b = rng(3);
    const draw = (r: () => number) => Array.from({ length: 30 }, () => chooseToken(logits, { ...sample, topP: 0.9 }, r));
    expect(draw(a)).toEqual(draw(b));
  });

  it('top-p keeps the smallest set of most likely tokens that reaches p', () => {
    const l = Float32Array.from([Math.log(0.5), Math.log(0.3), Math.log(0.15), Math.log(0.05)]);
    const seen = new Set<number>();
    const r = rng(11);
    for (let i = 0; i < 2000; i++) seen.add(chooseToken(l, { ...sample, topP: 0.8 }, r));
    expect([...seen].sort()).toEqual([0, 1]);
  });
});

describe('log-probabilities and the check', () => {
  it('tokenLogProb is log softmax', () => {
    const l = [1, 2, 3];
    const z = Math.exp(1) + Math.exp(2) + Math.exp(3);
    expect(tokenLogProb(l, 2)).toBeCloseTo(3 - Math.log(z), 12);
    expect(tokenLogProb([1000, 0], 0)).toBeCloseTo(0, 12);
  });

  it('logitDiff is relative to the largest reference logit; non-finite values never pass', () => {
    expect(logitDiff([1, -4.00002], [1, -4])).toEqual({ maxAbsDiff: expect.closeTo(2e-5, 12) as number, maxAbsLogit: 4, relative: expect.closeTo(5e-6, 12) as number });
    expect(logitDiff([NaN, 1], [0, 1]).relative).toBe(Infinity);
    expect(logitDiff([1], [1, 2]).relative).toBe(Infinity);
  });

  it('newText holds back an incomplete character', () => {
    expect(newText('Hallo We', 'Hallo')).toBe(' We');
    expect(newText('Hallo \uFFFD', 'Hallo')).toBeNull();
  });
});

import { describe, expect, it } from 'vitest';
import { decodeProblem, logitDiff, newText, samplingOf, type DecodeSettings } from './decoding';

const greedy: DecodeSettings = { mode: 'greedy', temperature: 1, topK: 0, topP: 1, seed: 0, maxNewTokens: 20 };
const sample: DecodeSettings = { ...greedy, mode: 'sample' };

describe('decodeProblem', () => {
  it('accepts good settings and names what is wrong in one line', () => {
    expect(decodeProblem(greedy, 256, 10, 8192)).toBeNull();
    expect(decodeProblem({ ...sample, temperature: 0.7, topK: 50, topP: 0.9, seed: 3 }, 256, 10, 8192)).toBeNull();
    expect(decodeProblem({ ...greedy, maxNewTokens: 0 }, 256, 10)).toBe("Max new tokens must be a whole number from 1 to 246 (the model's context is 256 tokens, the prompt takes 10).");
    expect(decodeProblem({ ...greedy, maxNewTokens: 247 }, 256, 10)).toContain('from 1 to 246');
    expect(decodeProblem({ ...greedy, maxNewTokens: NaN }, 256)).toContain('from 1 to 255');
    expect(decodeProblem({ ...greedy, maxNewTokens: 2.5 }, 256)).toContain('whole number');
    expect(decodeProblem(greedy, 256, 256)).toBe("The prompt is 256 tokens with BOS; the model's context is 256 tokens: shorten the prompt.");
    // Sampling settings are checked only when sampling, with the engine's messages (resolveSampling).
    expect(decodeProblem({ ...greedy, temperature: 0 }, 256)).toBeNull();
    expect(decodeProblem({ ...sample, temperature: 0 }, 256)).toContain('Temperature 0 means greedy decoding: choose Greedy');
    expect(decodeProblem({ ...sample, temperature: NaN }, 256)).toBe('Temperature is empty: give a number.');
    expect(decodeProblem({ ...sample, temperature: -1 }, 256)).toBe('Temperature -1 is out of range: give a number from 0 (greedy) to 100, e.g. 0.7.');
    expect(decodeProblem({ ...sample, temperature: 101 }, 256)).toContain('Temperature 101 is out of range');
    for (const k of [-1, 1.5, 8193]) expect(decodeProblem({ ...sample, topK: k }, 256, 1, 8192)).toBe(`Top-k ${k} is out of range: give a whole number from 0 (off) to the vocabulary size 8192.`);
    for (const p of [0, -0.1, 1.01]) expect(decodeProblem({ ...sample, topP: p }, 256)).toContain(`Top-p ${p} is out of range: give a number above 0 and at most 1`);
    for (const s of [-1, 0.5]) expect(decodeProblem({ ...sample, seed: s }, 256)).toContain(`Seed ${s} is out of range`);
  });

  it('greedy is temperature 0 for the engine\'s pickToken; sampling passes its settings', () => {
    expect(samplingOf({ ...greedy, temperature: 0.7 })).toEqual({ temperature: 0, topK: 0, topP: 1, seed: 0, repetitionPenalty: 1 });
    expect(samplingOf({ ...sample, temperature: 0.7, topK: 40, topP: 0.9, seed: 5 })).toEqual({ temperature: 0.7, topK: 40, topP: 0.9, seed: 5, repetitionPenalty: 1 });
  });
});

describe('the check and streamed text', () => {
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

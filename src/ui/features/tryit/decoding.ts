/**
 * The "Try it" panel's decoding settings, in plain TypeScript (no runtime, testable in Node): their
 * checks (one-line messages; the sampling values through the engine's `resolveSampling`, so the panel
 * and `Engine.generate` say the same), the engine's sampling settings they stand for (the next token
 * is chosen by the engine's `pickToken`, see runtime.ts), the difference of two logit arrays relative
 * to the largest logit, and incremental decoding of streamed tokens.
 */
import { resolveSampling, type SamplingSettings } from '../../../engine';

export type DecodeMode = 'greedy' | 'sample';

export interface DecodeSettings {
  mode: DecodeMode;
  /** Sampling: logits are divided by it before top-k / top-p (1 keeps the model's distribution). */
  temperature: number;
  /** Sampling: keep the k most likely tokens (0: all). */
  topK: number;
  /** Sampling: keep the smallest set of most likely tokens whose probabilities reach p (1: all). */
  topP: number;
  /** Sampling: the seed of the draws (the engine's PyRandom, Python's `random`). */
  seed: number;
  maxNewTokens: number;
}

/**
 * What is wrong with the settings, as one line that says what to do, or null. `context` is the
 * model's context length (max_position_embeddings), `promptTokens` the prompt's length with BOS
 * (when known).
 */
export function decodeProblem(s: DecodeSettings, context: number, promptTokens?: number, vocab?: number): string | null {
  const room = context - (promptTokens ?? 1);
  if (promptTokens !== undefined && room < 1) {
    return `The prompt is ${promptTokens} tokens with BOS; the model's context is ${context} tokens: shorten the prompt.`;
  }
  if (!Number.isInteger(s.maxNewTokens) || s.maxNewTokens < 1 || s.maxNewTokens > room) {
    return `Max new tokens must be a whole number from 1 to ${room} (the model's context is ${context} tokens${promptTokens !== undefined ? `, the prompt takes ${promptTokens}` : ', less the prompt'}).`;
  }
  if (s.mode === 'greedy') return null;
  for (const [name, v] of [['Temperature', s.temperature], ['Top-k', s.topK], ['Top-p', s.topP], ['Seed', s.seed]] as const) {
    if (!Number.isFinite(v)) return `${name} is empty: give a number.`;
  }
  if (s.temperature === 0) return 'Temperature 0 means greedy decoding: choose Greedy, or give a temperature above 0 to sample, e.g. 0.7.';
  try {
    resolveSampling(samplingOf(s), vocab ?? Number.MAX_SAFE_INTEGER);
  } catch (e) {
    return e instanceof Error ? e.message : String(e);
  }
  return null;
}

/** The engine's sampling settings of the panel's: greedy is temperature 0 (the same warpers and draws as `Engine.generate`). */
export function samplingOf(s: DecodeSettings): SamplingSettings {
  return { temperature: s.mode === 'greedy' ? 0 : s.temperature, topK: s.topK, topP: s.topP, seed: s.seed, repetitionPenalty: 1 };
}

export interface LogitDiff {
  maxAbsDiff: number;
  maxAbsLogit: number;
  /** maxAbsDiff / maxAbsLogit; Infinity when either side has a non-finite value or the lengths differ. */
  relative: number;
}

/** Largest |a - b| and largest |b| (b: the reference, PolyPrune's engine). */
export function logitDiff(a: ArrayLike<number>, b: ArrayLike<number>): LogitDiff {
  let d = 0;
  let m = 0;
  if (a.length !== b.length) return { maxAbsDiff: Infinity, maxAbsLogit: NaN, relative: Infinity };
  for (let i = 0; i < b.length; i++) {
    if (!Number.isFinite(a[i]) || !Number.isFinite(b[i])) return { maxAbsDiff: Infinity, maxAbsLogit: NaN, relative: Infinity };
    d = Math.max(d, Math.abs(a[i] - b[i]));
    m = Math.max(m, Math.abs(b[i]));
  }
  return { maxAbsDiff: d, maxAbsLogit: m, relative: m > 0 ? d / m : d === 0 ? 0 : Infinity };
}

/**
 * Incremental decoding of generated tokens: the text a token adds is the decoded continuation's new
 * suffix; while it ends in an incomplete UTF-8 sequence (byte-fallback pieces) the token adds
 * nothing yet and the next complete character goes to the token that completes it.
 */
export function newText(decoded: string, shown: string): string | null {
  if (decoded.endsWith('\uFFFD')) return null;
  return decoded.slice(shown.length);
}

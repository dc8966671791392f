/**
 * The "Try it" panel's decoding, in plain TypeScript (no runtime, testable in Node): the settings'
 * checks (one-line messages), the choice of the next token (greedy argmax, or sampling with
 * temperature, top-k and top-p from a seeded generator), the token's log-probability under the
 * model, and the difference of two logit arrays relative to the largest logit.
 */

export type DecodeMode = 'greedy' | 'sample';

export interface DecodeSettings {
  mode: DecodeMode;
  /** Sampling: logits are divided by it before top-k / top-p (1 keeps the model's distribution). */
  temperature: number;
  /** Sampling: keep the k most likely tokens (0: all). */
  topK: number;
  /** Sampling: keep the smallest set of most likely tokens whose probabilities reach p (1: all). */
  topP: number;
  /** Sampling: the seed of the random generator (Python's `random.Random` semantics). */
  seed: number;
  maxNewTokens: number;
}

export const MAX_TEMPERATURE = 10;

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
  if (!Number.isFinite(s.temperature) || s.temperature <= 0 || s.temperature > MAX_TEMPERATURE) {
    return `Temperature must be a number above 0 and at most ${MAX_TEMPERATURE} (1 keeps the model's probabilities; for the most likely token choose Greedy).`;
  }
  if (!Number.isInteger(s.topK) || s.topK < 0 || (vocab !== undefined && s.topK > vocab)) {
    return `Top-k must be a whole number from 0 (off) to ${vocab ?? 'the vocabulary size'}.`;
  }
  if (!Number.isFinite(s.topP) || s.topP <= 0 || s.topP > 1) {
    return 'Top-p must be a number above 0 and at most 1 (1: off).';
  }
  if (!Number.isInteger(s.seed) || s.seed < 0 || s.seed > 0xffffffff) {
    return 'Seed must be a whole number from 0 to 4294967295.';
  }
  return null;
}

/** Index of the largest value (the first one on ties, as transformers.js' greedy search). */
export function argmax(x: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < x.length; i++) if (x[i] > x[best]) best = i;
  return best;
}

/** log softmax(logits)[token], computed in float64. */
export function tokenLogProb(logits: ArrayLike<number>, token: number): number {
  let m = -Infinity;
  for (let i = 0; i < logits.length; i++) if (logits[i] > m) m = logits[i];
  let s = 0;
  for (let i = 0; i < logits.length; i++) s += Math.exp(logits[i] - m);
  return logits[token] - m - Math.log(s);
}

/**
 * The next token: greedy argmax, or a draw from softmax(logits / temperature) restricted to the top-k
 * tokens and then to the top-p nucleus (at least one token is always kept). `random` returns uniform
 * numbers in [0, 1).
 */
export function chooseToken(logits: ArrayLike<number>, s: DecodeSettings, random: () => number): number {
  if (s.mode === 'greedy') return argmax(logits);
  const V = logits.length;
  const order = Array.from({ length: V }, (_, i) => i).sort((a, b) => logits[b] - logits[a] || a - b);
  const k = s.topK > 0 ? Math.min(s.topK, V) : V;
  const kept = order.slice(0, k);
  const top = logits[kept[0]] / s.temperature;
  const w = kept.map((i) => Math.exp(logits[i] / s.temperature - top));
  let total = w.reduce((a, b) => a + b, 0);
  let n = kept.length;
  if (s.topP < 1) {
    let c = 0;
    for (let j = 0; j < kept.length; j++) {
      c += w[j] / total;
      if (c >= s.topP) {
        n = j + 1;
        break;
      }
    }
    total = w.slice(0, n).reduce((a, b) => a + b, 0);
  }
  let u = random() * total;
  for (let j = 0; j < n; j++) {
    u -= w[j];
    if (u < 0) return kept[j];
  }
  return kept[n - 1];
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

/**
 * Text generation on a loaded decoder: the prompt runs once into a K/V cache (LlamaModel.decodeStep,
 * the context-sharing attention path), then one token per step attends the cache. Decoding is greedy
 * (temperature 0: the first largest logit) or sampled the way transformers' `generate` does it:
 * logits / temperature, then top-k, then top-p (nucleus), then a draw from the softmax of what is
 * left. Draws come from a seeded random stream the caller gives (the engine's: a Mersenne Twister,
 * PyRandom in src/calib/random.ts, Python's `random`), so a seed gives the same tokens on every run
 * and machine (given the same logits).
 */
import { PolyPruneError, throwIfAborted } from '../common/errors';
import type { LlamaModel } from './llama';

/** Resolved decoding settings: temperature 0 = greedy (top-k, top-p and seed unused). */
export interface SamplingSettings {
  /** 0 = greedy; else > 0 (at most 100). */
  temperature: number;
  /** Keep the k most likely tokens; 0 = all. */
  topK: number;
  /** Keep the smallest set of most likely tokens whose probability reaches p; 1 = all. In (0, 1]. */
  topP: number;
  /** Seed of the draws: a whole number from 0 to 2^53 - 1. */
  seed: number;
  /**
   * transformers' repetition penalty (Keskar et al. 2019): a token already in the sequence (prompt
   * or generated) has its logit divided by it when positive, multiplied when negative; 1 = off.
   * Applied before the warpers, in greedy decoding too. In [1, 10].
   */
  repetitionPenalty: number;
}

/** A uniform random stream in [0, 1) (PyRandom). */
export interface Rng {
  random(): number;
}

export const DEFAULT_SAMPLING: SamplingSettings = { temperature: 0, topK: 0, topP: 1, seed: 0, repetitionPenalty: 1 };

/**
 * Check decoding settings (BAD_ARGUMENT naming the value and the allowed range). Missing values take
 * DEFAULT_SAMPLING's.
 */
export function resolveSampling(s: Partial<SamplingSettings>, vocabSize: number): SamplingSettings {
  const out = { ...DEFAULT_SAMPLING, ...Object.fromEntries(Object.entries(s).filter(([, v]) => v !== undefined)) } as SamplingSettings;
  const bad = (what: string, v: unknown, rule: string) => new PolyPruneError('BAD_ARGUMENT', `${what} ${String(v)} is out of range: ${rule}.`);
  if (typeof out.temperature !== 'number' || !Number.isFinite(out.temperature) || out.temperature < 0 || out.temperature > 100) throw bad('Temperature', out.temperature, 'give a number from 0 (greedy) to 100, e.g. 0.7');
  if (!Number.isInteger(out.topK) || out.topK < 0 || out.topK > vocabSize) throw bad('Top-k', out.topK, `give a whole number from 0 (off) to the vocabulary size ${vocabSize}`);
  if (typeof out.topP !== 'number' || !Number.isFinite(out.topP) || out.topP <= 0 || out.topP > 1) throw bad('Top-p', out.topP, 'give a number above 0 and at most 1 (1 = off), e.g. 0.95');
  if (!Number.isInteger(out.seed) || out.seed < 0 || out.seed > Number.MAX_SAFE_INTEGER) throw bad('Seed', out.seed, `give a whole number from 0 to ${Number.MAX_SAFE_INTEGER}`);
  if (typeof out.repetitionPenalty !== 'number' || !Number.isFinite(out.repetitionPenalty) || out.repetitionPenalty < 1 || out.repetitionPenalty > 10) throw bad('Repetition penalty', out.repetitionPenalty, 'give a number from 1 (off) to 10, e.g. 1.1');
  return out;
}

/** log-softmax of one logits row, in float64. */
export function logSoftmax(logits: Float32Array): Float64Array {
  let max = -Infinity;
  for (const v of logits) if (v > max) max = v;
  let sum = 0;
  for (const v of logits) sum += Math.exp(v - max);
  const lse = max + Math.log(sum);
  const out = new Float64Array(logits.length);
  for (let i = 0; i < logits.length; i++) out[i] = logits[i] - lse;
  return out;
}

/** Index of the largest logit (the first on ties, as torch.argmax). */
export function argmax(logits: Float32Array): number {
  let best = 0;
  for (let i = 1; i < logits.length; i++) if (logits[i] > logits[best]) best = i;
  return best;
}

/**
 * The next token, after the repetition penalty over `seen` (the sequence so far): argmax at
 * temperature 0; otherwise transformers' warper order (temperature, top-k
 * keeping ties with the k-th score, top-p keeping the most likely tokens until their probability
 * reaches p, at least one) and one draw of `rng`.
 */
export function pickToken(logits: Float32Array, s: SamplingSettings, rng: Rng, seen?: Iterable<number>): number {
  if (s.repetitionPenalty !== 1 && seen) {
    logits = Float32Array.from(logits);
    for (const id of new Set(seen)) logits[id] = logits[id] < 0 ? logits[id] * s.repetitionPenalty : logits[id] / s.repetitionPenalty;
  }
  if (s.temperature === 0) return argmax(logits);
  const V = logits.length;
  const order = Array.from({ length: V }, (_, i) => i).sort((a, b) => logits[b] - logits[a] || a - b);
  let n = V;
  if (s.topK > 0 && s.topK < V) {
    const kth = logits[order[s.topK - 1]];
    n = s.topK;
    while (n < V && logits[order[n]] === kth) n++;
  }
  const max = logits[order[0]] / s.temperature;
  const p = new Float64Array(n);
  let sum = 0;
  for (let j = 0; j < n; j++) sum += p[j] = Math.exp(logits[order[j]] / s.temperature - max);
  if (s.topP < 1) {
    let cum = 0;
    let keep = n;
    for (let j = 0; j < n; j++) {
      cum += p[j] / sum;
      if (cum >= s.topP) {
        keep = j + 1;
        break;
      }
    }
    n = keep;
    sum = 0;
    for (let j = 0; j < n; j++) sum += p[j];
  }
  let u = rng.random() * sum;
  for (let j = 0; j < n; j++) {
    u -= p[j];
    if (u < 0) return order[j];
  }
  return order[n - 1];
}

export interface GenerateTokensOptions {
  maxNewTokens: number;
  sampling: SamplingSettings;
  /** Token ids that end the generation (the EOS token is kept as the last token). */
  eos: ReadonlySet<number>;
  signal?: AbortSignal;
  /** Each new token as it is chosen, with its log-probability under the model (temperature 1, unfiltered). */
  onToken?: (id: number, logprob: number, index: number) => void;
}

export interface GeneratedTokens {
  tokens: Int32Array;
  /** log p(token | everything before) under the model's own distribution (temperature 1, no top-k/p). */
  logprobs: Float64Array;
  stopReason: 'eos' | 'length';
}

/** Generate up to maxNewTokens after `promptIds` (at least one token) with a K/V cache; draws from `rng`. */
export async function generateTokens(model: LlamaModel, promptIds: Int32Array, rng: Rng, o: GenerateTokensOptions): Promise<GeneratedTokens> {
  const [one] = await generateBatch(model, promptIds, { ...o, rngs: [rng], onToken: o.onToken && ((b, id, lp, i) => o.onToken!(id, lp, i)) });
  return one;
}

export interface GenerateBatchOptions extends Omit<GenerateTokensOptions, 'onToken'> {
  /** One random stream per sequence (the batch size). */
  rngs: Rng[];
  onToken?: (seq: number, id: number, logprob: number, index: number) => void;
}

/**
 * Generate rngs.length sequences from the same prompt in one batch (each matmul runs all of them at
 * once). A sequence that reaches EOS stops (the others go on); the result of sequence b depends on
 * its own stream only, not on the batch size.
 */
export async function generateBatch(model: LlamaModel, promptIds: Int32Array, o: GenerateBatchOptions): Promise<GeneratedTokens[]> {
  const B = o.rngs.length;
  const V = model.cfg.vocabSize;
  const cache = model.createKvCache(promptIds.length + o.maxNewTokens, B);
  const tokens: number[][] = Array.from({ length: B }, () => []);
  const logprobs: number[][] = Array.from({ length: B }, () => []);
  const stopped: boolean[] = new Array<boolean>(B).fill(false);
  try {
    const prompts = new Int32Array(B * promptIds.length);
    for (let b = 0; b < B; b++) prompts.set(promptIds, b * promptIds.length);
    let logits = await model.decodeStep(prompts, cache, o.signal);
    for (let i = 0; i < o.maxNewTokens; i++) {
      throwIfAborted(o.signal);
      const next = new Int32Array(B);
      for (let b = 0; b < B; b++) {
        const row = logits.subarray(b * V, (b + 1) * V);
        if (stopped[b]) {
          next[b] = tokens[b][tokens[b].length - 1];
          continue;
        }
        if (!row.every(Number.isFinite)) {
          throw new PolyPruneError('NON_FINITE', `Non-finite logits (NaN/Inf) at generated token ${i + 1}: the activations overflow float32 with these weights, so nothing is generated.`);
        }
        const id = pickToken(row, o.sampling, o.rngs[b], o.sampling.repetitionPenalty !== 1 ? [...promptIds, ...tokens[b]] : undefined);
        const lp = logSoftmax(row)[id];
        tokens[b].push(id);
        logprobs[b].push(lp);
        next[b] = id;
        o.onToken?.(b, id, lp, i);
        if (o.eos.has(id)) stopped[b] = true;
      }
      if (stopped.every(Boolean) || i + 1 >= o.maxNewTokens) break;
      logits = await model.decodeStep(next, cache, o.signal);
    }
  } finally {
    cache.destroy();
  }
  return tokens.map((t, b) => ({ tokens: Int32Array.from(t), logprobs: Float64Array.from(logprobs[b]), stopReason: stopped[b] ? 'eos' : 'length' }));
}

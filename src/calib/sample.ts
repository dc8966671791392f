/**
 * Seeded calibration windows exactly as wanda's `get_wikitext2` / `get_c4` draw them:
 * `random.seed(seed)`, then per window `i = random.randint(0, len(stream) - seqlen - 1)` and
 * `window = stream[i : i + seqlen]`. Windows may overlap.
 */
import { PolyPruneError } from '../common/errors';
import { PyRandom } from './random';

export interface SampledWindows {
  /** n * seqlen token ids, window after window. */
  readonly ids: Int32Array;
  /** Start of each window in the stream. */
  readonly offsets: number[];
}

/** `nsamples` windows of `seqlen` tokens from `stream`, as Python's random with `seed` picks them. */
export function sampleWindows(stream: Int32Array, nsamples: number, seqlen: number, seed: number): SampledWindows {
  if (!Number.isInteger(nsamples) || nsamples < 1) throw new PolyPruneError('BAD_ARGUMENT', `The number of calibration samples must be a positive integer, got ${nsamples}.`);
  if (!Number.isInteger(seqlen) || seqlen < 1) throw new PolyPruneError('BAD_ARGUMENT', `The calibration sequence length must be a positive integer, got ${seqlen}.`);
  if (!Number.isSafeInteger(seed)) throw new PolyPruneError('BAD_ARGUMENT', `The calibration seed must be an integer, got ${seed}.`);
  if (stream.length < seqlen + 1) {
    throw new PolyPruneError('CALIBRATION_INVALID', `Calibration text too short: windows of ${seqlen} tokens need at least ${seqlen + 1} tokens, the text has ${stream.length}.`);
  }
  const rng = new PyRandom(seed);
  const ids = new Int32Array(nsamples * seqlen);
  const offsets: number[] = [];
  for (let j = 0; j < nsamples; j++) {
    const i = rng.randint(0, stream.length - seqlen - 1);
    offsets.push(i);
    ids.set(stream.subarray(i, i + seqlen), j * seqlen);
  }
  return { ids, offsets };
}

/**
 * The calibration mixer's one interface (docs/mixer.md): a method that the mixer takes (the registry's
 * `mixer.supported`, src/prune/methods) has one {@link Mixer} that collects every calibration
 * source's statistics in one dense pass, derives the masks of any mix of them without a forward
 * pass, says what they take on the GPU, and serialises them (the browser's storage, a
 * `--save-stats` file). Implementations: Wanda's per-window input norms (./mix.ts) and SparseGPT's
 * per-source Hessians (./mixHessian.ts), which GPTQ's mixer shares (same statistics, GPTQ's solver);
 * MIXERS picks one by method.
 */
import type { Gpu } from '../gpu/device';
import type { LlamaModel } from '../model/llama';
import type { MixMethod } from './methods';
import type { PruneOptions } from './method';
import { wandaMixer, type CollectOptions, type MixPruneReport } from './mix';
import { gptqMixer, sparsegptMixer, type MixQuantizeOptions } from './mixHessian';

/** What every mixer's statistics have: windows per source (source after source), their length and the GPU bytes held. */
export interface MixStats {
  readonly counts: readonly number[];
  readonly seqlen: number;
  readonly bytes: number;
}

export interface Mixer<S extends MixStats = MixStats> {
  /**
   * Refuse (BAD_ARGUMENT, with the sizes and what to do instead) statistics of `counts` windows per
   * source that would not fit `budget` GPU bytes together with `extraBytes` (the calibration
   * activations of a collection; 0 for statistics loaded from storage).
   */
  checkFits(model: LlamaModel, counts: readonly number[], extraBytes: number, budget: number): void;
  /** One dense pass over the windows `ids` (source after source, `counts[s]` windows each). */
  collect(model: LlamaModel, ids: Int32Array, counts: readonly number[], seqlen: number, opts?: CollectOptions): Promise<S>;
  /**
   * Re-mask `slot` (a resident copy of `dense`) from the statistics mixed with `weights` (one per
   * source); a quantizing method (GPTQ) re-quantizes it instead, with `opts.quantize`.
   */
  mix(slot: LlamaModel, dense: LlamaModel, stats: S, weights: readonly number[], opts: PruneOptions & MixQuantizeOptions): Promise<MixPruneReport>;
  /** Every array back to the host, in the order `deserialise` and `tensorNames` take. */
  serialise(gpu: Gpu, stats: S): Promise<Float32Array[]>;
  /** Arrays from `serialise` onto the GPU again (checked against the model: BAD_ARGUMENT / NON_FINITE). */
  deserialise(model: LlamaModel, counts: readonly number[], seqlen: number, values: readonly Float32Array[]): S;
  free(stats: S): void;
  /** The statistics file's tensor names for the serialised arrays, in their order. */
  tensorNames(sources: number, layers: number): string[];
  /** The shape of one serialised array of `length` values, for `windows` windows in all. */
  tensorShape(length: number, windows: number): number[];
}

/** Every mixer method's implementation, by name (the compiler asks for a new mixer method's entry). */
export const MIXERS: { readonly [K in MixMethod]: Mixer } = {
  wanda: wandaMixer,
  sparsegpt: sparsegptMixer,
  gptq: gptqMixer,
};

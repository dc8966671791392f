/**
 * What a pruning method is, as the registry (./index.ts) holds it: one {@link MethodSpec} per method,
 * in its own file. Code above asks these fields, never the method's name.
 */
import type { Gpu, Tensor } from '../../gpu/device';
import type { ChunkedMatrix } from '../../gpu/ops';
import type { LinearName } from '../../model/names';
import type { PanelMatrix } from '../panels';
import type { NM } from '../method';
import type { SparsityProfile } from '../owl';
import type { GptqResult } from '../gptq';

/** A quantizing method's settings (GPTQ): bits, columns per group (-1: per channel), act-order, static groups. */
export interface QuantizeSettings {
  readonly bits: number;
  readonly groupSize: number;
  readonly actOrder: boolean;
  readonly staticGroups: boolean;
}

/**
 * The statistic a method collects per layer and input group in the sequential run (src/prune/run.ts):
 * none (magnitude), Wanda's input norms scaler_row (K), or SparseGPT's Hessian (K, K).
 */
export type StatisticKind = 'none' | 'norms' | 'hessian';

/** The pruning patterns a method accepts: unstructured ratios and/or N:M. */
export type PatternKind = 'unstructured' | 'nm';

/** Whether the calibration mixer (and the grid's instant rows) can derive this method's masks from per-source statistics. */
export type MixSupport = { readonly supported: true; /** what the collected statistics are called, e.g. 'SparseGPT Hessians' */ readonly statistics: string } | { readonly supported: false; readonly why: string };

/** The llm-compressor oneshot modifier of a method (src/export/recipe.ts), or why there is none. */
export type LlmCompressorSupport =
  | { readonly modifier: string; /** write the solver's block_size and dampening_frac */ readonly solverFields: boolean }
  | { readonly modifier: null; readonly why: string };

/** Everything one matrix's prune step gets (src/prune/run.ts builds it). */
export interface MatrixPruneContext {
  readonly gpu: Gpu;
  readonly layer: number;
  readonly name: LinearName;
  /** The weights (N, K), pruned in place. */
  readonly weight: ChunkedMatrix;
  /** Wanda's scaler_row (K) of the matrix's input group ('wanda' statistic), else null. */
  readonly scaler: Tensor | null;
  /** wanda-lang: the input group's scaler_row per calibration source (absent with one source). */
  readonly perSource?: readonly Tensor[];
  /** SparseGPT's Hessian (K, K) of the input group ('hessian' statistic), else null. */
  readonly hessian: PanelMatrix | null;
  /** The statistic is read again after this matrix (shared input group, or the reconstruction error): work on a copy. */
  readonly keepStatistic: boolean;
  /** This layer's unstructured ratio; undefined with N:M. */
  readonly sparsity: number | undefined;
  readonly nm?: NM;
  /** The resolved settings of the run that concern the step. */
  readonly settings: { readonly blocksize?: number; readonly percdamp?: number; readonly langBeta?: number; readonly quantize?: QuantizeSettings };
  /** Quantizing methods: hand out each matrix's codes and parameters. */
  readonly onQuantized?: (layer: number, name: LinearName, q: GptqResult) => void | Promise<void>;
  /** Wanda: hand out the statistic each matrix was pruned with. */
  readonly onStatistic?: (layer: number, name: LinearName, values: Float32Array) => void | Promise<void>;
}

export interface MethodSpec<Id extends string = string> {
  readonly id: Id;
  readonly label: string;
  readonly description: string;
  /** Needs calibration text (its statistics come from calibration activations, and it prunes layer by layer on them). */
  readonly calibrated: boolean;
  /** The statistic collected per input group in the sequential run. */
  readonly statistic: StatisticKind;
  /** Keeps one more statistic per calibration source and takes a language weight beta (wanda-lang). */
  readonly perSource: boolean;
  /** SparseGPT-style solver settings and their defaults (block size, dampening), or null. */
  readonly solver: { readonly blocksize: number; readonly percdamp: number } | null;
  /** The calibration mixer and the grid's instant rows. */
  readonly mixer: MixSupport;
  /** The layer-wise profiles accepted ('owl' needs calibration activations). */
  readonly profiles: readonly SparsityProfile[];
  /** The patterns accepted. */
  readonly patterns: readonly PatternKind[];
  readonly llmCompressor: LlmCompressorSupport;
  /** Quantizes instead of pruning (GPTQ): takes bits and a group size, no sparsity (`polyprune quantize`). */
  readonly quantizes?: boolean;
  /**
   * Prunes and, given bits, quantizes the kept weights in the same pass (SparseGPT's joint mode: the
   * quantization error joins the OBS update; per channel, as the reference).
   */
  readonly jointQuantize?: boolean;
}

/** A method's prune step (./steps.ts): prune one matrix in place from its input group's statistic. */
export type PruneStep = (ctx: MatrixPruneContext) => Promise<void>;

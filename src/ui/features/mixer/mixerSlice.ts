import type { SparsityPattern } from '../prune/pruneSlice';
import type { SliceCreator } from '../../store/types';
import type { StoredStatsMeta } from './mixStatsCache';
import { MIX_METHODS, type MixMethod } from '../../../engine';

/** The statistics the mixer holds in the engine (a summary; the numbers stay on the GPU). */
export interface MixStatsView {
  id: string;
  modelId: string;
  /** Wanda's per-window input norms or SparseGPT's per-source Hessians. */
  method: MixMethod;
  sources: { name: string; windows: number; language: string | null; bytes: number; sha256: string }[];
  seqlen: number;
  seed: number | null;
  collectMs: number;
  gpuBytes: number;
}

/** The latest instant update: weights, masks' sparsity, perplexity per evaluation language, timings. */
export interface MixUpdateView {
  /** The method that derived it, and its quantizer (GPTQ). */
  method?: MixMethod;
  quantize?: { bits: number; groupSize: number };
  /** The engine's mixer model (re-masked on every update). */
  modelId: string;
  weights: number[];
  pattern: SparsityPattern;
  overall: number;
  /** Engine time for the masks (restore, mix, select, read back). */
  maskMs: number;
  /** Masks plus perplexity on every evaluation language, as the page waited for it. */
  totalMs: number;
  ppl: Record<string, number>;
  /** sparsity[layer][matrix] (LINEAR_MATRICES order). */
  sparsity: number[][];
  /** Windows per source the masks used. */
  windows: number[];
  /** Where maskMs went (engine phases, ms). */
  phases: { mixMs: number; sqrtMs: number; selectMs: number; recordMs: number };
}

export interface MixConfirmView {
  weights: number[];
  windows: number[];
  /** What layerIou and iou measure: mask IoU, or (GPTQ) the share of equal integer codes. */
  agreement: 'mask-iou' | 'codes-equal';
  layerIou: (number | null)[];
  /** iou[layer][matrix]. */
  iou: (number | null)[][];
  matrices: string[];
  instantPpl: Record<string, number>;
  exactPpl: Record<string, number>;
}

/** The Calibration mixer panel: sources, weights (sum 1), and what the engine last reported. */
export interface MixerSlice {
  mixSources: string[];
  /** The user's own calibration sources (Experiment panel's `sources`, by id) to mix as well. */
  mixOwnSources: string[];
  mixEvalLangs: string[];
  mixSamples: number;
  /** Tokens per window, of the calibration windows and of the evaluation windows (the mixer's own; not the Perplexity panel's). */
  mixSeqlen: number;
  /** Evaluation windows per language after each update (the mixer's own; not the Perplexity panel's). */
  mixEvalWindows: number;
  /** The method whose statistics a collection keeps (Wanda or SparseGPT). */
  mixMethod: MixMethod;
  /** A quantizing mixer method (GPTQ): bits and columns per group (-1 per channel). */
  mixBits: number;
  mixGroupSize: number;
  mixWeights: number[];
  mixStats: MixStatsView | null;
  mixDense: Record<string, number>;
  mixUpdate: MixUpdateView | null;
  mixConfirm: MixConfirmView | null;
  /** An instant update is being computed. */
  mixBusy: boolean;
  /** What the running update does now ("perplexity de, windows 3/8"), shown beside "Updating…". */
  mixBusyText: string | null;
  /** Statistics of the active model kept in the browser's storage (newest first), offered for reuse. */
  mixStored: StoredStatsMeta[];
  /** Where the current statistics came from: a calibration pass, or the browser's storage. */
  mixStatsOrigin: 'collected' | 'stored' | null;
  setMixSources: (langs: string[]) => void;
  setMixOwnSources: (ids: string[]) => void;
  setMixEvalLangs: (langs: string[]) => void;
  setMixSamples: (n: number) => void;
  setMixSeqlen: (n: number) => void;
  setMixEvalWindows: (n: number) => void;
  setMixMethod: (m: MixMethod) => void;
  setMixQuantizer: (q: { bits?: number; groupSize?: number }) => void;
  setMixWeights: (w: number[]) => void;
  setMixState: (p: Partial<Pick<MixerSlice, 'mixStats' | 'mixDense' | 'mixUpdate' | 'mixConfirm' | 'mixBusy' | 'mixBusyText' | 'mixStored' | 'mixStatsOrigin'>>) => void;
}

export const createMixerSlice: SliceCreator<MixerSlice> = (set) => ({
  mixSources: ['de', 'en'],
  mixOwnSources: [],
  mixEvalLangs: ['de', 'en'],
  mixSamples: 16,
  mixSeqlen: 128,
  mixEvalWindows: 8,
  mixMethod: MIX_METHODS[0],
  mixBits: 4,
  mixGroupSize: 128,
  mixWeights: [0.5, 0.5],
  mixStats: null,
  mixDense: {},
  mixUpdate: null,
  mixConfirm: null,
  mixBusy: false,
  mixBusyText: null,
  mixStored: [],
  mixStatsOrigin: null,
  setMixSources: (mixSources) => set({ mixSources }),
  setMixOwnSources: (mixOwnSources) => set({ mixOwnSources }),
  setMixEvalLangs: (mixEvalLangs) => set({ mixEvalLangs }),
  setMixSamples: (mixSamples) => set({ mixSamples }),
  setMixSeqlen: (mixSeqlen) => set({ mixSeqlen }),
  setMixEvalWindows: (mixEvalWindows) => set({ mixEvalWindows }),
  setMixMethod: (mixMethod) => set({ mixMethod }),
  setMixQuantizer: (q) => set({ ...(q.bits !== undefined ? { mixBits: q.bits } : {}), ...(q.groupSize !== undefined ? { mixGroupSize: q.groupSize } : {}) }),
  setMixWeights: (mixWeights) => set({ mixWeights }),
  setMixState: (p) => set(p),
});

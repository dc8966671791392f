import type { PruneRequest } from '../../engine/api';
import type { SliceCreator } from './types';

export type PruneMethod = PruneRequest['method'];
export type SparsityPattern = { kind: 'unstructured'; sparsity: number } | { kind: 'nm'; n: number; m: number };

/** The prune form. Only settings; running it goes through actions.runPrune. */
export interface PruneSlice {
  pruneMethod: PruneMethod;
  prunePattern: SparsityPattern;
  /** Calibration language (bundled calib/<lang>.txt); ignored by magnitude. */
  calibLanguage: string;
  calibSamples: number;
  setPruneMethod: (m: PruneMethod) => void;
  setPrunePattern: (p: SparsityPattern) => void;
  setCalibLanguage: (l: string) => void;
  setCalibSamples: (n: number) => void;
}

export const createPruneSlice: SliceCreator<PruneSlice> = (set) => ({
  pruneMethod: 'wanda',
  prunePattern: { kind: 'unstructured', sparsity: 0.5 },
  calibLanguage: 'en',
  calibSamples: 128,
  setPruneMethod: (pruneMethod) => set({ pruneMethod }),
  setPrunePattern: (prunePattern) => set({ prunePattern }),
  setCalibLanguage: (calibLanguage) => set({ calibLanguage }),
  setCalibSamples: (calibSamples) => set({ calibSamples }),
});

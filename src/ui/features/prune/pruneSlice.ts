import type { PruneReport, PruneRequest } from '../../../engine';
import type { SliceCreator } from '../../store/types';

export type PruneMethod = PruneRequest['method'];
export type SparsityPattern = { kind: 'unstructured'; sparsity: number } | { kind: 'nm'; n: number; m: number };
/** Layer-wise sparsity (shared by the Prune and Experiment panels): uniform, or OWL with M and lambda. */
export interface LayerProfileSetting {
  profile: 'uniform' | 'owl';
  owlM: number;
  owlLambda: number;
}

/** The prune form. Only settings; running it goes through actions.runPrune. */
export interface PruneSlice {
  pruneMethod: PruneMethod;
  prunePattern: SparsityPattern;
  /** Calibration language (bundled calib/<lang>.txt); ignored by magnitude. */
  calibLanguage: string;
  calibSamples: number;
  layerProfile: LayerProfileSetting;
  setLayerProfile: (p: Partial<LayerProfileSetting>) => void;
  /** Report of each pruned model made in this session, by model id (shown under the form). */
  pruneReports: Record<string, PruneReport>;
  setPruneMethod: (m: PruneMethod) => void;
  setPrunePattern: (p: SparsityPattern) => void;
  setCalibLanguage: (l: string) => void;
  setCalibSamples: (n: number) => void;
  setPruneReport: (modelId: string, r: PruneReport) => void;
  clearPruneReport: (modelId: string) => void;
}

export const createPruneSlice: SliceCreator<PruneSlice> = (set) => ({
  pruneMethod: 'wanda',
  prunePattern: { kind: 'unstructured', sparsity: 0.5 },
  calibLanguage: 'en',
  calibSamples: 128,
  layerProfile: { profile: 'uniform', owlM: 5, owlLambda: 0.08 },
  setLayerProfile: (p) => set((s) => ({ layerProfile: { ...s.layerProfile, ...p } })),
  setPruneMethod: (pruneMethod) => set({ pruneMethod }),
  setPrunePattern: (prunePattern) => set({ prunePattern }),
  setCalibLanguage: (calibLanguage) => set({ calibLanguage }),
  pruneReports: {},
  setCalibSamples: (calibSamples) => set({ calibSamples }),
  setPruneReport: (modelId, r) => set((s) => ({ pruneReports: { ...s.pruneReports, [modelId]: r } })),
  clearPruneReport: (modelId) =>
    set((s) => {
      const { [modelId]: _gone, ...rest } = s.pruneReports;
      return { pruneReports: rest };
    }),
});

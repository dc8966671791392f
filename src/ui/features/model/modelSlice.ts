import type { ModelSummary } from '../../../engine';
import type { SliceCreator } from '../../store/types';

export type ModelSourceKind = 'bundled' | 'url' | 'files';

export interface ModelSlice {
  /** Loaded models, newest last. */
  models: ModelSummary[];
  /** The model the panels work on. */
  activeModelId: string | null;
  /** URL typed into the loader. */
  modelUrl: string;
  setModelUrl: (url: string) => void;
  addModel: (m: ModelSummary) => void;
  /** Replace a loaded model's summary (e.g. warnings it gained later), keeping its place and the active model. */
  updateModel: (m: ModelSummary) => void;
  removeModel: (id: string) => void;
  setActiveModel: (id: string | null) => void;
}

export const createModelSlice: SliceCreator<ModelSlice> = (set) => ({
  models: [],
  activeModelId: null,
  modelUrl: '',
  setModelUrl: (modelUrl) => set({ modelUrl }),
  addModel: (m) => set((s) => ({ models: [...s.models.filter((x) => x.id !== m.id), m], activeModelId: m.id })),
  updateModel: (m) => set((s) => ({ models: s.models.map((x) => (x.id === m.id ? m : x)) })),
  removeModel: (id) =>
    set((s) => {
      const models = s.models.filter((m) => m.id !== id);
      return { models, activeModelId: s.activeModelId === id ? (models[models.length - 1]?.id ?? null) : s.activeModelId };
    }),
  setActiveModel: (activeModelId) => set({ activeModelId }),
});

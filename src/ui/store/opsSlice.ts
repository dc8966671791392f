import type { ProgressEvent } from '../../common/progress';
import type { SliceCreator } from './types';

/** The one engine operation that runs at a time (the engine has one GPU queue). */
export interface RunningOp {
  opId: string;
  /** What the user started, e.g. "Loading model" or "Perplexity (de)". */
  label: string;
  /** Which panel started it; the panel shows the progress. */
  panel: 'model' | 'perplexity' | 'prune';
  progress: ProgressEvent | null;
  startedAt: number;
  cancelling: boolean;
}

export interface OpsSlice {
  running: RunningOp | null;
  startOp: (op: Omit<RunningOp, 'progress' | 'startedAt' | 'cancelling'>) => void;
  setOpProgress: (opId: string, p: ProgressEvent) => void;
  setCancelling: (opId: string) => void;
  endOp: (opId: string) => void;
}

export const createOpsSlice: SliceCreator<OpsSlice> = (set) => ({
  running: null,
  startOp: (op) => set({ running: { ...op, progress: null, startedAt: Date.now(), cancelling: false } }),
  setOpProgress: (opId, progress) => set((s) => (s.running?.opId === opId ? { running: { ...s.running, progress } } : {})),
  setCancelling: (opId) => set((s) => (s.running?.opId === opId ? { running: { ...s.running, cancelling: true } } : {})),
  endOp: (opId) => set((s) => (s.running?.opId === opId ? { running: null } : {})),
});

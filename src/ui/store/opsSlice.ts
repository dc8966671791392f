import type { ProgressEvent } from '../../common/progress';
import type { SliceCreator } from './types';

/** Panels that start engine operations and show their progress. */
export type OpPanel = 'model' | 'perplexity' | 'prune' | 'experiment' | 'tasks' | 'history' | 'mixer' | 'tryit';

/** Where a multi-step operation (a grid, tasks over several languages) stands as a whole. */
export interface OpOverall {
  done: number;
  total: number;
  /** The step running now (or, between steps, the last finished one), e.g. "dense → de: perplexity". */
  message: string;
  /** The run's own estimate of the time left when `etaAt` (Date.now()) was set; null: not known yet. */
  etaMs?: number | null;
  etaAt?: number;
}

/** The one engine operation that runs at a time (the engine has one GPU queue). */
export interface RunningOp {
  opId: string;
  /** What the user started, e.g. "Loading model" or "Perplexity (de)". */
  label: string;
  /** Which panel started it; the panel shows the progress. */
  panel: OpPanel;
  /** The last progress event of the current engine call. */
  progress: ProgressEvent | null;
  /** Set by operations made of several engine calls. */
  overall: OpOverall | null;
  startedAt: number;
  cancelling: boolean;
}

export interface OpsSlice {
  running: RunningOp | null;
  startOp: (op: Omit<RunningOp, 'progress' | 'overall' | 'startedAt' | 'cancelling'>) => void;
  setOpProgress: (opId: string, p: ProgressEvent | null) => void;
  setOpOverall: (opId: string, o: OpOverall) => void;
  setCancelling: (opId: string) => void;
  endOp: (opId: string) => void;
}

export const createOpsSlice: SliceCreator<OpsSlice> = (set) => ({
  running: null,
  startOp: (op) => set({ running: { ...op, progress: null, overall: null, startedAt: Date.now(), cancelling: false } }),
  setOpProgress: (opId, progress) => set((s) => (s.running?.opId === opId ? { running: { ...s.running, progress } } : {})),
  setOpOverall: (opId, overall) => set((s) => (s.running?.opId === opId ? { running: { ...s.running, overall } } : {})),
  setCancelling: (opId) => set((s) => (s.running?.opId === opId ? { running: { ...s.running, cancelling: true } } : {})),
  endOp: (opId) => set((s) => (s.running?.opId === opId ? { running: null } : {})),
});

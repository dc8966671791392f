/** Progress events shared by every long engine operation (UI and CLI render them). */
export type ProgressEvent =
  | { kind: 'download'; file: string; loaded: number; total: number }
  | { kind: 'load'; message: string; done: number; total: number }
  | { kind: 'calibrate'; message: string; done: number; total: number }
  | { kind: 'layer'; layer: number; layers: number; phase: 'forward' | 'prune' | 'recompute'; elapsedMs: number; etaMs: number }
  | { kind: 'prune'; matrix: string; done: number; total: number }
  | { kind: 'eval'; message: string; done: number; total: number }
  | { kind: 'export'; message: string; done: number; total: number }
  | { kind: 'done'; message: string };

export type ProgressCallback = (e: ProgressEvent) => void;

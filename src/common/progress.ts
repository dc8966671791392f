/**
 * Progress events shared by every long engine operation (UI and CLI render them).
 *
 * The experiment kinds say what they are, so that a page never guesses from counts:
 * - `step`: one step of a multi-step run (an experiment) finished: done/total steps, elapsed and
 *   estimated remaining time, and which row/column/seed it concerns when it concerns one.
 * - `stepStart`: the next step begins; its message names what runs now (the page's step label).
 * - `cell`: a finished cell of an experiment, with the values just measured (per seed index) and the
 *   mean/spread over the seeds measured so far. `row`/`col` index the experiment record's rows/columns.
 * - `layerDone`: a decoder layer finished pruning: per-matrix sparsity and relative reconstruction
 *   error ||WX - W'X||^2 / ||WX||^2 on the calibration activations (null when not measured), and
 *   `layerSparsity`, the zeros over the weights of the whole layer (differs per layer with OWL).
 */
export interface CellValues {
  ppl: number | null;
  bpb: number | null;
  /** Per task of the column: accuracy and its standard error. */
  acc: (number | null)[];
  se: (number | null)[];
}

export interface SeedSummary {
  mean: number;
  /** Sample standard deviation over seeds; null with fewer than two. */
  sd: number | null;
  n: number;
}

export type ProgressEvent =
  | { kind: 'download'; file: string; loaded: number; total: number }
  | { kind: 'load'; message: string; done: number; total: number }
  | { kind: 'calibrate'; message: string; done: number; total: number }
  | { kind: 'layer'; layer: number; layers: number; phase: 'forward' | 'prune' | 'recompute'; elapsedMs: number; etaMs: number }
  | { kind: 'prune'; matrix: string; done: number; total: number }
  | { kind: 'eval'; message: string; done: number; total: number }
  | { kind: 'export'; message: string; done: number; total: number }
  | { kind: 'done'; message: string }
  /** Generation (Engine.generate): one new token, `text` the characters it completes (may be ''), its log-probability; `done` of at most `total` tokens. */
  | { kind: 'token'; token: number; text: string; logprob: number; done: number; total: number }
  | { kind: 'step'; message: string; done: number; total: number; elapsedMs: number; etaMs: number | null; row?: number; col?: number; seed?: number }
  /** A step of a multi-step run begins (`done` steps finished so far): what is running now. */
  | { kind: 'stepStart'; message: string; done: number; total: number; row?: number; col?: number; seed?: number }
  | { kind: 'cell'; row: number; col: number; seed: number; values: CellValues; summary: { ppl: SeedSummary | null; bpb: SeedSummary | null; acc: (SeedSummary | null)[] } }
  | { kind: 'layerDone'; layer: number; layers: number; matrices: string[]; sparsity: number[]; recon: (number | null)[]; row?: number; seed?: number; layerSparsity?: number }
  /** `updateMs` (instant grid rows: engine time of the mask update) and `layerIou` (confirm rows: mean IoU per layer vs the instant masks). */
  | { kind: 'rowDone'; row: number; seed: number; sparsity: number; updateMs?: number; layerIou?: (number | null)[]; /** confirm rows of a quantizing method (GPTQ): mean share of equal integer codes per layer vs the instant model. */ layerCodes?: (number | null)[] }
  | { kind: 'maskOverlap'; a: number; b: number; seed: number; matrices: string[]; iou: (number | null)[][] };

export type ProgressCallback = (e: ProgressEvent) => void;

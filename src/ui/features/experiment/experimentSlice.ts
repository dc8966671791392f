import type { StudyVariant } from '../../../experiment/study';
import type { GeneratedSource, HubTextRef, TaskName } from '../../../engine';
import type { PruneMethod, SparsityPattern } from '../prune/pruneSlice';
import type { SliceCreator } from '../../store/types';

/**
 * A calibration source: a file the user gave, a bundled calibration text, or a mix of other sources
 * in given proportions. Each selected source is one row (one pruned model) of the experiment.
 */
export interface CalibSource {
  id: string;
  name: string;
  origin: 'file' | 'bundled' | 'mix';
  /** Format of a file ('text', 'jsonl', 'json', 'csv'). */
  format?: string;
  /** Field or column the text came from. */
  field?: string;
  /** Size of the whole file (bundled: of the text). */
  fileBytes: number;
  /** UTF-8 bytes of the text used. */
  bytes: number;
  /** Only the start of a large file is used. */
  capped: boolean;
  /** The text used for calibration ('' for a mix). */
  text: string;
  preview: string;
  /** Tokens of `text` with the active model's tokenizer; null until counted. */
  tokens: number | null;
  /** `tokens` was extrapolated from the start of a long text. */
  tokensEstimated?: boolean;
  /** Language, detected or set by the user; null: not identified, the user has to say. */
  language: string | null;
  /** What language ID said (null: could not tell). */
  detected: string | null;
  /** How clearly the detected language won (1 - the runner-up's score); below 0.1 the page says it is unsure. */
  confidence?: number;
  /** Next candidates of language ID, best first. */
  alternatives?: string[];
  /** Records skipped while parsing (malformed JSON lines, rows without text). */
  skipped: number;
  /** Mix: the parts and their weights (proportions). */
  parts?: { id: string; weight: number }[];
  /** Text the model wrote itself ("Generate with the model", format 'generated'): how, to write it again. */
  generated?: GeneratedSource;
  /** Part of the next experiment. */
  selected: boolean;
  /** Text from the Hugging Face Hub: its provenance (records keep it; re-runs fetch that text again). */
  hub?: HubTextRef;
}

/** A task file for the experiment, tagged with the evaluation language it belongs to. */
/** A bundled task from data/tasks/index.json. */
export interface BundledTask {
  task: TaskName;
  language: string;
  file: string;
  name: string;
  items: number;
}

export interface ExpTaskFile {
  id: string;
  name: string;
  bytes: number;
  text: string;
  format: TaskName;
  language: string;
}

/** A task column group of the experiment: a bundled task or a task file, in one language. */
export interface ExpTask {
  key: string;
  /** Short name, e.g. "UDHR" or the file name. */
  label: string;
  task: TaskName;
  /** The task file of this language (a bundled file's name, or the user's file name). */
  file?: string;
}

export interface TaskScore {
  acc: number;
  stderr: number | null;
  n: number;
}

/** One cell: a row's measurements in one evaluation language, indexed by seed (null: not yet). */
export interface ExpCell {
  ppl: (number | null)[];
  bpb: (number | null)[];
  /** Task key -> scores per seed. */
  tasks: Record<string, (TaskScore | null)[]>;
}

export interface ExpRow {
  /** 'dense' or the source id. */
  id: string;
  label: string;
  language: string | null;
  /** Overall sparsity reached per seed. */
  sparsity: number[];
  /** How the row's masks were made (absent: a sequential prune): mixed from the statistics (instant grid), or the exact prune of such a row (confirm). */
  mode?: 'instant' | 'exact';
  /** Instant rows: engine time of each seed's mask update (ms). */
  updateMs?: number[];
  /** Exact rows (confirm): per seed the mean mask IoU per layer against the instant row's masks. */
  layerIou?: (number | null)[][];
  /** Exact rows of a quantizing method (GPTQ): per seed the mean share of integer codes equal to the instant row's, per layer. */
  layerCodes?: (number | null)[][];
  /** Bytes of the row's exported weights and their format (src/experiment/size.ts). */
  size?: { bytes: number; format: 'safetensors' | 'gptq' };
}

/** Layers of one prune as they finish: time and per-matrix relative reconstruction error. */
export interface LayerTrace {
  rowId: string;
  seed: number;
  layers: number;
  /** Milliseconds from the start of the prune at which layer i finished. */
  finishedAt: number[];
  /** Matrix names of `recon`'s inner index. */
  matrices: string[];
  /** recon[layer][matrix]: ||WX - W'X||^2 / ||WX||^2 on the calibration activations (null: not measured). */
  recon: ((number | null)[] | undefined)[];
  /** Zeros over weights of each finished layer (differs per layer with the OWL profile). */
  layerSparsity?: number[];
}

/** Mask overlap of two pruned rows (first seed): iou[layer][matrix]. */
export interface ExpMaskOverlap {
  a: string;
  b: string;
  seed: number;
  matrices: string[];
  iou: (number | null)[][];
}

export interface ExperimentSettings {
  method: PruneMethod;
  pattern: SparsityPattern;
  nsamples: number;
  seqlen: number;
  evalWindows: number;
  seeds: number[];
  evalLanguages: string[];
  taskLimit: number | null;
  /** The layer profile (absent: uniform). */
  owl?: { m: number; lambda: number };
  /** Instant rows: one calibration pass per seed, masks mixed from its statistics (docs/mixer.md). */
  instant?: boolean;
  /** With instant: each row followed by its exact sequential prune (confirmMix). */
  confirm?: boolean;
  /** Several methods side by side (record version 2): rows per method and source. */
  variants?: StudyVariant[];
}

export interface ExperimentRun {
  id: number;
  modelName: string;
  /** The model's portable source (a Hub id for Hub models) and engine id, for a live run (the published-model comparison). */
  modelSource?: string;
  modelId?: string;
  settings: ExperimentSettings;
  rows: ExpRow[];
  /** Tasks per evaluation language (task key list). */
  tasks: Record<string, ExpTask[]>;
  /** cells[rowId][language] */
  cells: Record<string, Record<string, ExpCell>>;
  /** Evaluation languages without held-out text (task columns only; a stored record's). */
  textless?: string[];
  status: 'running' | 'done' | 'cancelled' | 'failed';
  /** What is being measured now. */
  current: { rowId: string; language?: string; seed?: number } | null;
  layerTraces: LayerTrace[];
  masks: ExpMaskOverlap[];
  /** The versioned result record (src/experiment/records.ts) once the run has ended. */
  record: unknown | null;
  startedAt: number;
  elapsedMs: number;
}

export type ExpMetric = 'ppl' | 'bpb';

/** A row of the live run compared with the checkpoint the authors published for its settings (Compare with the published model). */
export interface PublishedComparison {
  runId: number;
  rowId: string;
  /** The seed the row was pruned again with, and whose published checkpoint it is compared with. */
  seed?: number;
  /** The published checkpoint's Hub id, once found; the candidates tried while none is. */
  repo: string | null;
  tried: string[];
  status: 'running' | 'done' | 'failed';
  /** Mean IoU per layer, per layer and matrix, both zero fractions, the matrices. */
  matrices?: string[];
  iou?: (number | null)[][];
  layerIou?: (number | null)[];
  meanIou?: number | null;
  sparsity?: [number, number];
  /** Both perplexities on the same held-out text (row first, published second), with the text's name and language. */
  ppl?: { row: number; published: number; text: string; language: string; windows: number; seqlen: number };
  error?: string;
}

export interface ExperimentSlice {
  sources: CalibSource[];
  expTaskFiles: ExpTaskFile[];
  /** The forward rate measured on this adapter for the active model (tokens per ms), keyed by adapter and model hash; the run estimate uses it. */
  expRate: { key: string; tokensPerMs: number } | null;
  setExpRate: (r: { key: string; tokensPerMs: number } | null) => void;
  /** Bundled tasks beyond UDHR (data/tasks/index.json), scored in their languages. */
  bundledTasks: BundledTask[];
  expMethod: PruneMethod;
  expPattern: SparsityPattern;
  expNsamples: number;
  expSeqlen: number;
  expEvalWindows: number;
  /** How many seeds (0, 1, ... k-1). */
  expSeedCount: number;
  expEvalLanguages: string[];
  /** Score the bundled UDHR task in every evaluation language that has it. */
  expUdhr: boolean;
  /** Score the bundled tasks of data/tasks/index.json in their languages. */
  expBundled: boolean;
  /** Items per task (NaN: all). */
  expTaskLimit: number;
  /** Instant rows (one calibration pass, masks from the mixed statistics) instead of one prune per row. */
  expInstant: boolean;
  /** Methods to compare, e.g. 'wanda@0.5, sparsegpt@2:4, gptq@4bit' (src/experiment/variants.ts); empty: the one method above. */
  expVariants: string;
  /** With expInstant: each row followed by its exact sequential prune, with the per-layer IoU. */
  expConfirm: boolean;
  /** lm-eval tasks (e.g. xcopa_it) whose data comes from the Hugging Face Hub, scored in their language's column. */
  expHubTasks: string[];
  /** Held-out perplexity text: '' the bundled evaluation text, else a Hub corpus spec with `{lang}` (e.g. `mc4:{lang}:validation`). */
  expEvalHub: string;
  expMetric: ExpMetric;
  expTaskShown: string | null;
  expRun: ExperimentRun | null;
  /** Comparisons of the live run's rows with the published checkpoints. */
  expPublished: PublishedComparison[];
  setExpPublished: (rowId: string, runId: number, patch: Partial<PublishedComparison>) => void;
  addSource: (s: CalibSource) => void;
  updateSource: (id: string, patch: Partial<CalibSource>) => void;
  removeSource: (id: string) => void;
  addExpTaskFile: (f: ExpTaskFile) => void;
  updateExpTaskFile: (id: string, patch: Partial<ExpTaskFile>) => void;
  removeExpTaskFile: (id: string) => void;
  setExp: (patch: Partial<Pick<ExperimentSlice, 'expMethod' | 'expPattern' | 'expNsamples' | 'expSeqlen' | 'expEvalWindows' | 'expSeedCount' | 'expEvalLanguages' | 'expUdhr' | 'expBundled' | 'expTaskLimit' | 'expInstant' | 'expConfirm' | 'expVariants' | 'expHubTasks' | 'expEvalHub' | 'expMetric' | 'expTaskShown' | 'bundledTasks'>>) => void;
  setExpRun: (run: ExperimentRun | null) => void;
  /** Apply `f` to the run with this id (ignored when another run replaced it). */
  updateExpRun: (id: number, f: (run: ExperimentRun) => ExperimentRun) => void;
}

/** The Experiment panel's default sparsity (Wanda, unstructured) and task items per cell: see below. */
export const DEFAULT_EXP_SPARSITY = 0.9;
export const DEFAULT_EXP_TASK_ITEMS = 200;

export const createExperimentSlice: SliceCreator<ExperimentSlice> = (set) => ({
  sources: [],
  expTaskFiles: [],
  expRate: null,
  setExpRate: (expRate) => set({ expRate }),
  bundledTasks: [],
  // Chosen by measurement on the bundled model (docs/eval-tasks.md, "The page's default experiment"):
  // at 50 % pruning barely moves its task accuracy; at 90 % it costs accuracy, more with another
  // language's calibration text, while perplexity stays finite and follows the calibration language.
  expMethod: 'wanda',
  expPattern: { kind: 'unstructured', sparsity: DEFAULT_EXP_SPARSITY },
  expNsamples: 16,
  expSeqlen: 64,
  expEvalWindows: 4,
  expSeedCount: 1,
  expEvalLanguages: [],
  expUdhr: true,
  expBundled: true,
  expTaskLimit: DEFAULT_EXP_TASK_ITEMS,
  expInstant: false,
  expConfirm: false,
  expVariants: '',
  expHubTasks: [],
  expEvalHub: '',
  expMetric: 'ppl',
  expTaskShown: null,
  expRun: null,
  expPublished: [],
  setExpPublished: (rowId, runId, patch) =>
    set((s) => {
      const i = s.expPublished.findIndex((x) => x.rowId === rowId && x.runId === runId);
      const base: PublishedComparison = i >= 0 ? s.expPublished[i] : { runId, rowId, repo: null, tried: [], status: 'running' };
      const next = { ...base, ...patch };
      return { expPublished: i >= 0 ? s.expPublished.map((x, k) => (k === i ? next : x)) : [...s.expPublished.filter((x) => x.runId === runId), next] };
    }),
  addSource: (src) => set((s) => ({ sources: [...s.sources, src] })),
  updateSource: (id, patch) => set((s) => ({ sources: s.sources.map((x) => (x.id === id ? { ...x, ...patch } : x)) })),
  removeSource: (id) =>
    set((s) => ({
      // A mix that loses a part keeps the others; a mix left with fewer than two parts goes too.
      sources: s.sources
        .filter((x) => x.id !== id)
        .map((x) => (x.parts ? { ...x, parts: x.parts.filter((p) => p.id !== id) } : x))
        .filter((x) => !x.parts || x.parts.length >= 2),
    })),
  addExpTaskFile: (f) => set((s) => ({ expTaskFiles: [...s.expTaskFiles, f] })),
  updateExpTaskFile: (id, patch) => set((s) => ({ expTaskFiles: s.expTaskFiles.map((x) => (x.id === id ? { ...x, ...patch } : x)) })),
  removeExpTaskFile: (id) => set((s) => ({ expTaskFiles: s.expTaskFiles.filter((x) => x.id !== id) })),
  setExp: (patch) => set(patch),
  setExpRun: (expRun) => set({ expRun }),
  updateExpRun: (id, f) => set((s) => (s.expRun?.id === id ? { expRun: f(s.expRun) } : {})),
});

/**
 * How long a study will take, before it runs: the run plan (steps of each kind and the tokens each
 * runs through the model) divided by a forward rate measured on this adapter (a few forward passes,
 * tokens per millisecond). Rough by nature (task items are counted at TOKENS_PER_TASK_ITEM tokens, a
 * prune at a few forwards over its calibration windows), but of the right order: it tells minutes from
 * hours before the user commits, and `fasterSettings` says what brings hours down to minutes. While the
 * study runs, its ETA replaces these per-step times with measured ones (src/experiment/study.ts).
 */
import type { Engine, ModelSummary, OpOptions } from '../engine/api';
import type { StepKind, StudyInputs, StudySpec } from './study';
import { lookupMethod } from '../prune/methods';

/** Forward tokens one multiple-choice item takes (a shared context and its choices; UDHR and CLAMS items run 60-100). */
export const TOKENS_PER_TASK_ITEM = 80;
/** Items assumed for a task without a limit whose size is unknown. */
const UNKNOWN_TASK_ITEMS = 500;

export interface StudyShape {
  /** Pruned rows per seed (calibration sources; 1 for magnitude). */
  rows: number;
  seeds: number;
  /** 'magnitude' needs no calibration forward; 'sparsegpt' solves per matrix besides. */
  method: string;
  calibrated: boolean;
  /** Calibration windows per row and their length. */
  nsamples: number;
  seqlen: number;
  /** Instant rows (one collection per seed, then mask updates); confirm adds an exact prune per row. */
  instant: boolean;
  confirm: boolean;
  /** One entry per evaluation language: does it have held-out text, and its task cells' item counts (null: all items, size unknown). */
  columns: { text: boolean; tasks: (number | null)[] }[];
  /** Evaluation windows per perplexity cell and their length. */
  evalWindows: number;
  evalSeqlen: number;
}

export interface StudyEstimate {
  totalMs: number;
  /** Steps of each kind and the expected time of one. */
  steps: Record<StepKind, number>;
  stepMs: Record<StepKind, number>;
  /** Forward tokens of the whole run (prunes counted as their forwards). */
  tokens: number;
}

/** Forward passes a prune costs over its calibration windows (dense forward, pruned recompute, solves). */
function pruneForwards(method: string): number {
  // a Hessian method also solves per matrix (about one more forward's worth of work)
  return lookupMethod(method)?.statistic === 'hessian' ? 3 : 2;
}

/** The run's steps and time at `tokensPerMs` (measured on this adapter). */
export function estimateStudy(p: StudyShape, tokensPerMs: number): StudyEstimate {
  const rate = Math.max(tokensPerMs, 1e-6);
  const rows = p.rows * p.seeds;
  const measuredRows = 1 + rows * (p.instant && p.confirm ? 2 : 1);
  const pplCells = measuredRows * p.columns.filter((c) => c.text).length;
  const taskItems = p.columns.reduce((n, c) => n + c.tasks.reduce<number>((a, t) => a + (t ?? UNKNOWN_TASK_ITEMS), 0), 0);
  const taskCells = measuredRows * p.columns.reduce((n, c) => n + c.tasks.length, 0);
  const pplTokens = p.evalWindows * p.evalSeqlen;
  const calTokens = p.calibrated ? p.nsamples * p.seqlen : 0;
  // Instant: one collection over every source per seed, then cheap mask updates (+ exact prunes with confirm).
  const pruneSteps = rows * (p.instant && p.confirm ? 2 : 1) + (p.instant ? p.seeds : 0);
  const pruneTokens = p.instant ? p.seeds * p.rows * calTokens + (p.confirm ? rows * calTokens * pruneForwards(p.method) : 0) : rows * calTokens * pruneForwards(p.method);
  const steps: Record<StepKind, number> = { prune: pruneSteps, ppl: pplCells, task: taskCells, overlap: 0 };
  const taskTokensPerCell = taskCells ? (measuredRows * taskItems * TOKENS_PER_TASK_ITEM) / taskCells : 0;
  // A prune without calibration forwards (magnitude) or a mask update still takes about a forward's worth of kernel work.
  const stepMs: Record<StepKind, number> = { prune: Math.max(pruneSteps ? pruneTokens / pruneSteps : 0, 256) / rate, ppl: pplTokens / rate, task: taskTokensPerCell / rate, overlap: 0 };
  const totalMs = steps.prune * stepMs.prune + steps.ppl * stepMs.ppl + steps.task * stepMs.task;
  return { totalMs, steps, stepMs, tokens: Math.round(totalMs * rate) };
}

/** Settings a study may change to run faster, and what they become. */
export interface FasterSettings {
  taskLimit?: number;
  evalWindows?: number;
  seeds?: number;
  nsamples?: number;
}

/**
 * The smallest set of changes, in the order that costs the comparison least (fewer task items per
 * cell, then fewer evaluation windows, one seed, fewer calibration windows), that brings the estimate
 * under `targetMs`; null when already under, or when even all of them do not get there (then the
 * closest is returned with `reached: false`).
 */
export function fasterSettings(p: StudyShape, tokensPerMs: number, targetMs = 15 * 60_000): { settings: FasterSettings; shape: StudyShape; estimate: StudyEstimate; reached: boolean } | null {
  if (estimateStudy(p, tokensPerMs).totalMs <= targetMs) return null;
  const ladder: ((s: StudyShape, f: FasterSettings) => [StudyShape, FasterSettings] | null)[] = [];
  for (const limit of [100, 50, 20]) {
    ladder.push((s, f) => (s.columns.some((c) => c.tasks.some((t) => t === null || t > limit)) ? [{ ...s, columns: s.columns.map((c) => ({ ...c, tasks: c.tasks.map((t) => Math.min(t ?? limit, limit)) })) }, { ...f, taskLimit: limit }] : null));
  }
  for (const w of [4, 2]) ladder.push((s, f) => (s.evalWindows > w ? [{ ...s, evalWindows: w }, { ...f, evalWindows: w }] : null));
  ladder.push((s, f) => (s.seeds > 1 ? [{ ...s, seeds: 1 }, { ...f, seeds: 1 }] : null));
  for (const n of [8, 4]) ladder.push((s, f) => (s.calibrated && s.nsamples > n ? [{ ...s, nsamples: n }, { ...f, nsamples: n }] : null));
  let shape = p;
  let settings: FasterSettings = {};
  let estimate = estimateStudy(p, tokensPerMs);
  for (const stepDown of ladder) {
    const next = stepDown(shape, settings);
    if (!next) continue;
    [shape, settings] = next;
    estimate = estimateStudy(shape, tokensPerMs);
    if (estimate.totalMs <= targetMs) return { settings, shape, estimate, reached: true };
  }
  return Object.keys(settings).length ? { settings, shape, estimate, reached: false } : null;
}

/**
 * The forward rate of a loaded model on this adapter (tokens per ms): one warm-up pass (pipelines
 * compile), then 4 synthetic windows of 64 tokens timed. The page (src/ui/features/experiment/estimate.ts)
 * keeps it per adapter and model, and cancels it (through `opts.opId`) when the user starts anything;
 * `polyprune grid` measures it once before the run.
 */
export async function measureForwardRate(engine: Pick<Engine, 'perplexity'>, model: Pick<ModelSummary, 'id' | 'maxPositionEmbeddings' | 'vocabSize'>, opts: OpOptions = {}): Promise<number> {
  const seqlen = Math.min(64, model.maxPositionEmbeddings);
  const windows = (n: number) => ({ ids: Int32Array.from({ length: n * seqlen }, (_, i) => (i * 7919 + 13) % model.vocabSize), n, seqlen });
  await engine.perplexity(model.id, { windows: windows(1), seqlen }, opts);
  const n = 4;
  const t0 = performance.now();
  await engine.perplexity(model.id, { windows: windows(n), seqlen }, opts);
  return (n * seqlen) / Math.max(1, performance.now() - t0);
}

/** A duration as a person plans by: seconds, minutes, or hours and minutes. */
export function fmtLong(ms: number): string {
  const min = Math.round(ms / 60_000);
  if (ms < 60_000) return `${Math.max(1, Math.round(ms / 1000))} s`;
  if (min < 60) return `${min} min`;
  return `${Math.floor(min / 60)} h ${min % 60} min`;
}

/**
 * The shape of a study as `runStudy` will run it (the CLI's grid): rows from its sources (one when the
 * method needs no calibration), its columns' text and tasks (items unknown until read: capped by
 * `taskLimit`), and evaluation windows from `evalMaxWindows` or the text's length (about 4 bytes a token).
 */
export function studyShapeOf(spec: StudySpec, inputs: StudyInputs, calibrated: boolean): StudyShape {
  const limit = spec.taskLimit ?? null;
  const longest = Math.max(0, ...inputs.columns.map((c) => c.text?.text.length ?? 0));
  const fromText = Math.max(1, Math.floor(longest / 4 / spec.evalSeqlen));
  return {
    rows: spec.variants?.length ? spec.variants.reduce((n, v) => n + (lookupMethod(v.method)?.calibrated ? inputs.sources.length : 1), 0) : calibrated ? inputs.sources.length : 1,
    seeds: calibrated ? (spec.seeds?.length ?? 1) : 1,
    method: spec.method,
    calibrated,
    nsamples: spec.nsamples,
    seqlen: spec.seqlen,
    instant: !!spec.instant,
    confirm: !!spec.instant && !!spec.confirm,
    columns: inputs.columns.map((c) => ({ text: !!c.text, tasks: (c.tasks ?? []).map(() => limit) })),
    evalWindows: spec.evalMaxWindows !== undefined ? Math.min(spec.evalMaxWindows, fromText) : fromText,
    evalSeqlen: spec.evalSeqlen,
  };
}

/** One line for a terminal or a page: the estimate, the measured rate and the steps it counts. */
export function describeEstimate(est: StudyEstimate, tokensPerMs: number): string {
  return `about ${fmtLong(est.totalMs)} on this adapter (${Math.round(tokensPerMs * 1000).toLocaleString('en-US')} tokens/s measured; ${est.steps.prune} prune${est.steps.prune === 1 ? '' : 's'}, ${est.steps.ppl} perplexity and ${est.steps.task} task cells)`;
}

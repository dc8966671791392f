/**
 * The study, as one run: rows = the dense model plus one pruned model per calibration source (or
 * mix of sources), columns = evaluation languages; per cell and seed: perplexity and bits per byte
 * on held-out text, and accuracy (with standard error) on each task of the column. Also per pruned
 * row and seed: per-layer/per-matrix relative reconstruction error, and the mask IoU between rows.
 *
 * Contract (keep the exported names stable):
 *   runStudy(engine, baseModelId, spec, inputs, { signal, onEvent, resume }) => ExperimentRecord
 * - Works against any implementation of the few Engine calls it needs (in-thread LocalEngine in the
 *   CLI, the worker client in the page); requests are the engine's own types.
 * - Order: the dense row (column by column), then for each seed, each pruned row: prune, then its
 *   cells column by column, then the mask overlaps of that seed. A `cell` event is emitted the moment
 *   a value is measured (values so far, plus mean/spread over seeds), `step` events carry done/total
 *   and a time estimate, `layerDone` events (with row/seed) come from the engine as layers finish.
 * - Cancel (signal) or a failure in the middle: the record comes back with what was measured,
 *   `complete: false` and a `note`; it never throws after validation. Bad input throws BAD_ARGUMENT
 *   before anything runs.
 * - `resume`: a record of the same experiment (same model hash, spec, sources, columns): measured
 *   cells are kept and not measured again. Mask overlaps need both masks in the engine, which an
 *   interruption loses: rows of the first seed finished earlier are pruned again (same seed, so the
 *   same mask; no reconstruction error, no measuring) for the overlaps still missing.
 * - `spec.instant` (docs/mixer.md, "The grid"): per seed ONE calibration pass (engine.collectStats over
 *   every distinct calibration text of the rows), then per row engine.mixPrune with the row's weights
 *   (no forward pass); `spec.confirm` adds after each row its exact sequential prune (confirmMix) as a
 *   row '<label> (exact)'. Statistics live in the engine only: a resumed instant grid collects them
 *   again (one pass per seed with rows left), finished rows are kept.
 */
import { PolyPruneError, throwIfAborted } from '../common/errors';
import type { ProgressCallback, ProgressEvent } from '../common/progress';
import type { CalibrationText, CollectStatsRequest, Engine, MixSourceRequest, PruneRequest, StatsSummary, TaskRequest } from '../engine/api';
import { allocateSamples, sha256Hex } from '../calib/text';
import type { HubTextRef } from '../io/datasets/corpus';
import { LINEAR_NAMES } from '../model/names';
import { METHODS, assertNoDuplicates, lookupMethod, methodSpec, type NM, type PruneMethod } from '../prune/method';
import { layerAchieved, type SparsityProfile } from '../prune/owl';
import { meanSpread, profileSpec, recordHeader, sig, type ExperimentCell, type ExperimentRecord, type ExperimentVariant, type ModelRef, type SourceRef } from './records';
import { engineRowSizer, type RowSize, type RowSizer } from './size';
import { resolveVariants, variantLabel } from './variants';
export { resolveVariants, variantLabel };
export { rowMeans, sizeWinners, studySizeMarkdown } from './size';

/** What the study needs from an engine. */
export type StudyEngine = Pick<Engine, 'prune' | 'perplexity' | 'evalTask' | 'unloadModel' | 'listModels' | 'gpuInfo' | 'cancel' | 'maskOverlap' | 'releaseMask' | 'collectStats' | 'mixPrune' | 'confirmMix' | 'keepMix' | 'releaseStats' | 'exportSizes'>;

/**
 * One method of a multi-method experiment: its rows are one model per calibration source, pruned
 * (sparsity or N:M) and/or quantized (`quantize`: GPTQ; SparseGPT with bits = its joint mode).
 */
export interface StudyVariant {
  method: PruneMethod;
  sparsity?: number;
  nm?: NM;
  quantize?: { bits: number; groupSize?: number; actOrder?: boolean; staticGroups?: boolean };
}

export interface StudySpec {
  /** The method of every row (ignored when `variants` is given). */
  method: PruneMethod;
  /** Unstructured ratio in (0, 1); omit with `nm`. */
  sparsity?: number;
  nm?: NM;
  nsamples: number;
  seqlen: number;
  /** Calibration sampler seeds; several give mean and spread per cell. Default [0]. */
  seeds?: number[];
  evalSeqlen: number;
  evalMaxWindows?: number;
  /** Score at most this many items per task. */
  taskLimit?: number;
  /** Per-layer reconstruction error while pruning (default true). */
  reconstructionError?: boolean;
  /** Mask IoU between the pruned rows, for the first seed (default true). */
  maskOverlap?: boolean;
  /** Layer-wise sparsity profile: 'uniform' (default) or 'owl' (src/prune/owl.ts), with OWL's M and lambda. */
  profile?: SparsityProfile;
  owlM?: number;
  owlLambda?: number;
  /** wanda-lang: weight of the spread across a mix's sources (default 1). */
  langBeta?: number;
  /**
   * Instant rows (docs/mixer.md, "The grid"): per seed ONE dense pass collects the statistics of every
   * calibration text (engine.collectStats, `nsamples` windows per text), and each row's masks are
   * derived from them (engine.mixPrune: one text = weight 1, a mix = its weights) instead of one
   * sequential prune per row. Methods collectStats takes (Wanda); no OWL, wanda-lang or magnitude.
   */
  instant?: boolean;
  /** With `instant`: after each instant row, the exact sequential prune of the same mix (engine.confirmMix) as a row of its own, with the per-layer IoU. */
  confirm?: boolean;
  /**
   * Several methods side by side (record version 2): for each variant, one row per calibration source
   * (one row for a method without calibration), labelled '<variant> · <source>'. Replaces
   * method/sparsity/nm; the layer profile and beta apply to every variant.
   */
  variants?: StudyVariant[];
}

/** A row: one calibration source, or a mix of several (each text with its `weight`). */
export interface StudySource {
  label: string;
  /** `hub`: where a text from the Hub came from (kept in the record, so re-runs fetch it again). */
  texts: (CalibrationText & { hub?: HubTextRef })[];
}

export interface StudyTask {
  /** How the user named it (file name, lm-eval name). */
  label: string;
  /** The engine's own task request (task format, text, language); `limit` comes from the spec. */
  request: Omit<TaskRequest, 'limit'>;
  /** File name for the record (default: label). */
  fileName?: string;
}

/** A column: an evaluation language with held-out text (perplexity) and/or tasks. */
export interface StudyColumn {
  language: string;
  text?: { name: string; text: string; hub?: HubTextRef };
  tasks?: StudyTask[];
}

export interface StudyInputs {
  sources: StudySource[];
  columns: StudyColumn[];
}

export interface StudyOptions {
  signal?: AbortSignal;
  onEvent?: ProgressCallback;
  resume?: ExperimentRecord;
  /**
   * Expected milliseconds of one step of each kind before any has run (the page's estimate from a
   * measured forward rate, src/experiment/estimate.ts), so the first ETA is not a guess from another
   * kind of step; measured averages replace them as steps finish.
   */
  priorStepMs?: Partial<Record<StepKind, number>>;
}

/** What a step of the run does; the ETA averages each kind on its own (a task cell is not a perplexity cell). */
export type StepKind = 'prune' | 'ppl' | 'task' | 'overlap';

const enc = new TextEncoder();

async function ref(name: string, data: { text?: string; bytes?: Uint8Array; hub?: HubTextRef }, language: string | null, weight?: number): Promise<SourceRef> {
  const bytes = data.bytes ?? enc.encode(data.text ?? '');
  return { name, language, bytes: bytes.byteLength, sha256: await sha256Hex(bytes), ...(weight !== undefined ? { weight } : {}), ...(data.hub ? { hub: { ...data.hub, files: [...data.hub.files] } } : {}) };
}

/** A row's normalised mix weights, one per text (a single text: [1]). */
function mixWeights(s: StudySource): number[] {
  const w = s.texts.map((t) => t.weight ?? 1);
  const sum = w.reduce((a, b) => a + b, 0);
  return w.map((x) => x / sum);
}

/** Which calibration source each row is made from (-1: the dense row, and the one row of a method without calibration). */
export function studyRowSources(spec: { method: string; instant?: boolean; confirm?: boolean; variants?: readonly { method: string }[] }, inputs: StudyInputs): number[] {
  const methods = spec.variants?.length ? spec.variants.map((v) => v.method) : [spec.method];
  return [-1, ...methods.flatMap((m) => (!lookupMethod(m)?.calibrated ? [-1] : inputs.sources.flatMap((_, i) => (spec.instant && spec.confirm ? [i, i] : [i]))))];
}

/** The variant of each row (index into spec.variants; 0 for records of one method, -1 for the dense row). */
export function studyRowVariants(rec: ExperimentRecord): number[] {
  return rec.rows.map((row, r) => (r === 0 ? -1 : (row.variant ?? 0)));
}

/** The variants of a record: spec.variants, or its one method as a variant. */
export function recordVariants(rec: ExperimentRecord): ExperimentVariant[] {
  return rec.spec.variants ?? [{ method: rec.spec.method, sparsity: rec.spec.sparsity, nm: rec.spec.nm, quantize: null }];
}

/** Bytes and format of each row's exported model (src/experiment/size.ts): the export's own accounting for the base model with the row's quantizer. */
export async function rowSizes(rec: ExperimentRecord, sizeOf: RowSizer): Promise<RowSize[]> {
  const variants = recordVariants(rec);
  return Promise.all(studyRowVariants(rec).map((v) => sizeOf(v < 0 ? null : variants[v].quantize)));
}

/** `sizeOf`: the size column's source (engineRowSizer of the loaded base model); without it the rows have no size until runStudy adds it. */
export async function planStudy(model: ModelRef, adapter: string, specIn: StudySpec, inputs: StudyInputs, sizeOf?: RowSizer): Promise<ExperimentRecord> {
  const { all, variants, labels } = resolveVariants(specIn);
  const settings = all[0];
  const { method } = settings;
  const prof = all.find((x) => x.layers.langBeta !== undefined)?.layers ?? settings.layers;
  const pattern = { sparsity: settings.sparsity, nm: settings.nm };
  const multi = !!specIn.variants;
  const int = (v: unknown, name: string, min: number) => {
    if (!Number.isInteger(v) || (v as number) < min) throw new PolyPruneError('BAD_ARGUMENT', `${name} must be an integer >= ${min}, got ${String(v)}.`);
    return v as number;
  };
  const seeds = specIn.seeds ?? [0];
  if (!seeds.length) throw new PolyPruneError('BAD_ARGUMENT', 'Give at least one seed.');
  seeds.forEach((s) => int(s, 'A seed', 0));
  assertNoDuplicates(seeds.map(String), 'The seed list');
  const spec = {
    method,
    sparsity: pattern.sparsity,
    nm: pattern.nm ?? null,
    nsamples: int(specIn.nsamples, 'The number of calibration windows', 1),
    seqlen: int(specIn.seqlen, 'The calibration window length', 2),
    seeds: [...seeds],
    evalSeqlen: int(specIn.evalSeqlen, 'The evaluation window length', 2),
    evalMaxWindows: specIn.evalMaxWindows === undefined ? null : int(specIn.evalMaxWindows, 'The number of evaluation windows', 1),
    taskLimit: specIn.taskLimit === undefined ? null : int(specIn.taskLimit, 'The task item limit', 1),
    ...profileSpec(method, prof.owl ? { profile: 'owl', ...prof.owl } : undefined, prof.langBeta),
    ...(specIn.instant ? { instant: true as const } : {}),
    ...(specIn.confirm ? { confirm: true as const } : {}),
    ...(multi ? { variants } : {}),
  };
  const owl = prof.profile === 'owl';
  if (specIn.confirm && !specIn.instant) throw new PolyPruneError('BAD_ARGUMENT', 'Confirm compares instant rows with the exact prune: it needs the instant mode too.');
  if (specIn.instant) {
    const mixer = METHODS[method].mixer;
    if (!mixer.supported) throw new PolyPruneError('BAD_ARGUMENT', mixer.why);
    if (owl) throw new PolyPruneError('BAD_ARGUMENT', 'The instant mode derives masks with a uniform sparsity per layer; OWL layer-wise sparsity is not supported there. Run OWL without the instant mode.');
  }
  if (!inputs.columns.length) throw new PolyPruneError('BAD_ARGUMENT', 'Give at least one evaluation language.');
  assertNoDuplicates(
    inputs.columns.map((c) => c.language),
    'The evaluation languages',
  );
  const calibratedAny = variants.some((v) => METHODS[v.method].calibrated);
  if (calibratedAny && !inputs.sources.length) throw new PolyPruneError('BAD_ARGUMENT', `${variants.find((v) => METHODS[v.method].calibrated)!.method} needs at least one calibration source (one row per source).`);
  const rows: ExperimentRecord['rows'] = [{ label: 'dense', sources: [], sparsity: [], recon: [] }];
  const sourceRows: ExperimentRecord['rows'] = [];
  if (calibratedAny) {
    assertNoDuplicates(
      inputs.sources.map((s) => s.label),
      'The calibration sources',
    );
    const seen = new Map<string, string>();
    for (const s of inputs.sources) {
      if (!s.label.trim()) throw new PolyPruneError('BAD_ARGUMENT', 'A calibration source has no name.');
      if (!s.texts.length) throw new PolyPruneError('BAD_ARGUMENT', `Calibration source '${s.label}' has no text.`);
      const refs: SourceRef[] = [];
      for (const t of s.texts) {
        const r = { ...(await ref(t.name, t, t.language ?? null, s.texts.length > 1 ? (t.weight ?? 1) : t.weight)), ...(t.generated ? { generated: t.generated } : {}) };
        if (r.bytes === 0) throw new PolyPruneError('BAD_ARGUMENT', `Calibration text '${t.name}' is empty.`);
        if (t.weight !== undefined && !(t.weight > 0 && Number.isFinite(t.weight))) throw new PolyPruneError('BAD_ARGUMENT', `The weight of '${t.name}' must be a positive number, got ${t.weight}.`);
        refs.push(r);
      }
      const key = refs.map((r) => `${r.sha256}*${r.weight ?? 1}`).sort().join('+');
      const dup = seen.get(key);
      if (dup) throw new PolyPruneError('BAD_ARGUMENT', `Calibration sources '${dup}' and '${s.label}' have the same text; give each source once.`);
      seen.set(key, s.label);
      const row = { label: s.label, sources: refs, sparsity: seeds.map(() => null), recon: seeds.map(() => null), ...(owl ? { layerSparsity: seeds.map(() => null) } : {}) };
      if (!specIn.instant) sourceRows.push(row);
      else {
        const weights = mixWeights(s);
        // instant: every collected window of each text of the row; confirm: nsamples drawn from them in the mix's proportions
        sourceRows.push({ ...row, mix: { mode: 'instant', weights, windows: s.texts.map(() => spec.nsamples), updateMs: seeds.map(() => null) } });
        // confirm: mask IoU per layer, or for a quantizing method (GPTQ) the share of equal integer codes
        const agreement = methodSpec(method).quantizes ? { layerCodes: seeds.map(() => null) } : { layerIou: seeds.map(() => null) };
        if (specIn.confirm) sourceRows.push({ ...row, label: `${s.label} (exact)`, mix: { mode: 'confirm', weights, windows: allocateSamples(spec.nsamples, weights), ...agreement } });
      }
    }
  }
  // per variant: one row per calibration source (a method without calibration: one row)
  variants.forEach((v, vi) => {
    const tag = multi ? { variant: vi } : {};
    if (!METHODS[v.method].calibrated) rows.push({ label: multi ? labels[vi] : v.method, sources: [], sparsity: seeds.map(() => null), recon: seeds.map(() => null), ...tag });
    else for (const row of sourceRows) rows.push({ ...structuredClone(row), ...(multi && variants.length > 1 ? { label: `${labels[vi]} · ${row.label}` } : {}), ...tag });
  });
  assertNoDuplicates(
    rows.map((r) => r.label),
    'The rows',
  );
  const columns: ExperimentRecord['columns'] = [];
  for (const c of inputs.columns) {
    if (!c.language.trim()) throw new PolyPruneError('BAD_ARGUMENT', 'An evaluation column has no language.');
    const tasks = c.tasks ?? [];
    if (!c.text && !tasks.length) throw new PolyPruneError('BAD_ARGUMENT', `Evaluation language '${c.language}' has neither held-out text nor a task.`);
    if (c.text && !c.text.text.trim()) throw new PolyPruneError('BAD_ARGUMENT', `The held-out text for '${c.language}' (${c.text.name}) is empty.`);
    assertNoDuplicates(
      tasks.map((t) => t.label),
      `The tasks of '${c.language}'`,
    );
    const trefs = [];
    for (const t of tasks) {
      if (!t.request.text.trim()) throw new PolyPruneError('BAD_ARGUMENT', `Task file '${t.fileName ?? t.label}' is empty.`);
      trefs.push({ task: t.request.task, label: t.label, file: await ref(t.fileName ?? t.label, { text: t.request.text }, t.request.language ?? c.language), n: null });
    }
    columns.push({ language: c.language, text: c.text ? await ref(c.text.name, c.text, c.language) : null, tasks: trefs });
  }
  const emptyCell = (seedsN: number, T: number): ExperimentCell => ({
    ppl: Array(seedsN).fill(null),
    bpb: Array(seedsN).fill(null),
    acc: Array.from({ length: T }, () => Array(seedsN).fill(null)),
    se: Array.from({ length: T }, () => Array(seedsN).fill(null)),
  });
  const rec: ExperimentRecord = {
    ...recordHeader(model, adapter, new Date(), multi ? 2 : 1),
    kind: 'experiment',
    spec,
    matrices: [...LINEAR_NAMES],
    rows,
    columns,
    cells: rows.map((_, r) => columns.map((c) => emptyCell(r === 0 ? 1 : seeds.length, c.tasks.length))),
    iou: [],
    complete: false,
  };
  if (sizeOf) {
    const sizes = await rowSizes(rec, sizeOf);
    rec.rows.forEach((row, r) => (row.size = sizes[r]));
  }
  return rec;
}

/** The same experiment? (model, spec, rows' sources, columns); returns why not, or null. */
export function resumeMismatch(a: ExperimentRecord, b: ExperimentRecord): string | null {
  if (a.model.sha256 !== b.model.sha256) return 'it was run on a different model';
  if (JSON.stringify(a.spec) !== JSON.stringify(b.spec)) return 'its settings differ';
  const rowKey = (r: ExperimentRecord['rows'][number]) => `${r.label}:${r.sources.map((s) => `${s.sha256}*${s.weight ?? 1}`).join('+')}`;
  if (a.rows.map(rowKey).join('|') !== b.rows.map(rowKey).join('|')) return 'its calibration sources differ';
  const colKey = (c: ExperimentRecord['columns'][number]) => `${c.language}:${c.text?.sha256 ?? '-'}:${c.tasks.map((t) => `${t.task}/${t.file.sha256}`).join(',')}`;
  if (a.columns.map(colKey).join('|') !== b.columns.map(colKey).join('|')) return 'its evaluation languages or tasks differ';
  return null;
}

const isCancel = (e: unknown) => e instanceof PolyPruneError && e.code === 'CANCELLED';

/** Run (or resume) the experiment; see the file comment. */
export async function runStudy(engine: StudyEngine, baseModelId: string, specIn: StudySpec, inputs: StudyInputs, opts: StudyOptions = {}): Promise<ExperimentRecord> {
  const base = (await engine.listModels()).find((m) => m.id === baseModelId);
  if (!base) throw new PolyPruneError('BAD_ARGUMENT', `No loaded model '${baseModelId}'.`);
  const model: ModelRef = { source: base.source, name: base.name, sha256: base.sha256, modelType: base.modelType, parameters: base.parameters, layers: base.numLayers };
  const adapter = (await engine.gpuInfo()).description;
  const sizeOf = engineRowSizer(engine, baseModelId);
  const rec = await planStudy(model, adapter, specIn, inputs, sizeOf);
  if (opts.resume) {
    const why = resumeMismatch(rec, opts.resume);
    if (why) throw new PolyPruneError('BAD_ARGUMENT', `Cannot resume from that result: ${why}.`);
    rec.cells = structuredClone(opts.resume.cells);
    rec.rows = structuredClone(opts.resume.rows);
    rec.iou = structuredClone(opts.resume.iou);
    rec.columns.forEach((c, k) => c.tasks.forEach((t, j) => (t.n = opts.resume!.columns[k].tasks[j].n)));
    rec.created = opts.resume.created;
  }
  // the size column: bytes of each row's exported model (the export's accounting)
  const sizes = await rowSizes(rec, sizeOf);
  rec.rows.forEach((row, r) => (row.size = sizes[r]));
  const variants = recordVariants(rec);
  const rowVar = studyRowVariants(rec);
  const variantOf = (r: number): ExperimentVariant => variants[Math.max(0, rowVar[r])];
  /** Rows with a mask to compare (pruned, not only quantized). */
  const masked = (r: number): boolean => r > 0 && variantOf(r).sparsity > 0;
  const spec = rec.spec;
  const S = spec.seeds.length;
  const R = rec.rows.length;
  const emit = (e: ProgressEvent) => opts.onEvent?.(e);
  const signal = opts.signal;
  let opSeq = 0;
  let currentOp: string | null = null;
  const opId = () => (currentOp = `study-${Date.now().toString(36)}-${++opSeq}`);
  const onAbort = () => {
    if (currentOp) void engine.cancel(currentOp);
  };
  signal?.addEventListener('abort', onAbort);

  // steps: dense cells + per seed and pruned row: one prune + its cells, + mask pairs per seed
  const pplLeft = (r: number, s: number) => rec.columns.reduce((n, c, k) => n + (c.text && rec.cells[r][k].ppl[s] === null ? 1 : 0), 0);
  const tasksLeft = (r: number, s: number) => rec.columns.reduce((n, c, k) => n + c.tasks.filter((_, j) => rec.cells[r][k].acc[j][s] === null).length, 0);
  const measures = (r: number, s: number) => pplLeft(r, s) + tasksLeft(r, s);
  const rowDone = (r: number, s: number) => measures(r, s) === 0 && rec.rows[r].sparsity[s] !== null;
  let total = measures(0, 0);
  for (let s = 0; s < S; s++) for (let r = 1; r < R; r++) if (!rowDone(r, s)) total += 1 + measures(r, s);
  const maskedRows = rec.rows.map((_, r) => r).filter(masked);
  const wantIou = specIn.maskOverlap !== false && maskedRows.length > 1;
  // Mask overlaps for the first seed only (they vary little with the seed; keeps the record small).
  if (wantIou) total += (maskedRows.length * (maskedRows.length - 1)) / 2 - rec.iou.filter((m) => m.s === 0).length;
  // Rows of the first seed finished before a resume have no mask any more (masks live in the engine,
  // not in the record): they are pruned again, cheaply (no reconstruction error, no measuring), for
  // the overlaps still missing. Pruning is deterministic for a given seed, so the IoU is the same.
  const hasIou = (a: number, b: number) => rec.iou.some((m) => m.s === 0 && ((m.a === a && m.b === b) || (m.a === b && m.b === a)));
  const remask = new Set<number>();
  if (wantIou) for (const r of maskedRows) if (rowDone(r, 0) && maskedRows.some((b) => b !== r && !hasIou(r, b))) remask.add(r);
  total += remask.size;
  const instant = spec.instant === true;
  const rowSrc = studyRowSources(spec, inputs);
  const keepMaskOf = (r: number, s: number): boolean => wantIou && s === 0 && masked(r);
  let done = 0;
  const t0 = performance.now();
  const KINDS: StepKind[] = ['prune', 'ppl', 'task', 'overlap'];
  const spent: Record<StepKind, [number, number]> = { prune: [0, 0], ppl: [0, 0], task: [0, 0], overlap: [0, 0] };
  const remaining: Record<StepKind, number> = { prune: 0, ppl: pplLeft(0, 0), task: tasksLeft(0, 0), overlap: 0 };
  for (let s = 0; s < S; s++)
    for (let r = 1; r < R; r++)
      if (!rowDone(r, s)) {
        remaining.prune++;
        remaining.ppl += pplLeft(r, s);
        remaining.task += tasksLeft(r, s);
      }
  remaining.prune += remask.size;
  if (instant) {
    // one statistics collection per seed with rows left to derive (counted with the prunes)
    const collections = spec.seeds.filter((_, s) => rec.rows.some((_, r) => r > 0 && (!rowDone(r, s) || (s === 0 && remask.has(r))))).length;
    total += collections;
    remaining.prune += collections;
  }
  remaining.overlap = Math.max(0, total - remaining.prune - remaining.ppl - remaining.task);
  /** Time left: each kind's remaining steps at its own measured average (else the prior; null when neither is known). */
  const eta = (): number | null => {
    let ms = 0;
    for (const k of KINDS) {
      if (!remaining[k] || k === 'overlap') continue;
      const avg = spent[k][1] ? spent[k][0] / spent[k][1] : opts.priorStepMs?.[k];
      if (avg === undefined) return null;
      ms += remaining[k] * avg;
    }
    return ms;
  };
  /** A step begins: the page names it as the running step (`stepStart`). */
  const begin = (message: string, where: { row?: number; col?: number; seed?: number }) => {
    emit({ kind: 'stepStart', message, done, total, ...where });
  };
  const step = (kind: StepKind, ms: number, message: string, where: { row?: number; col?: number; seed?: number }) => {
    done++;
    spent[kind][0] += ms;
    spent[kind][1]++;
    remaining[kind] = Math.max(0, remaining[kind] - 1);
    emit({ kind: 'step', message, done, total, elapsedMs: performance.now() - t0, etaMs: eta(), ...where });
  };
  const cellEvent = (r: number, k: number, s: number) => {
    const c = rec.cells[r][k];
    emit({
      kind: 'cell',
      row: r,
      col: k,
      seed: s,
      values: { ppl: c.ppl[s], bpb: c.bpb[s], acc: c.acc.map((a) => a[s]), se: c.se.map((a) => a[s]) },
      summary: { ppl: meanSpread(c.ppl), bpb: meanSpread(c.bpb), acc: c.acc.map((a) => meanSpread(a)) },
    });
  };

  const measureRow = async (id: string, r: number, s: number) => {
    for (let k = 0; k < rec.columns.length; k++) {
      const col = rec.columns[k];
      const input = inputs.columns[k];
      const cell = rec.cells[r][k];
      if (col.text && input.text && cell.ppl[s] === null) {
        throwIfAborted(signal);
        begin(`${rec.rows[r].label} → ${col.language}: perplexity`, { row: r, col: k, seed: s });
        const t = performance.now();
        const p = await engine.perplexity(id, { text: input.text.text, seqlen: spec.evalSeqlen, maxWindows: spec.evalMaxWindows ?? undefined, language: col.language }, { opId: opId(), onProgress: opts.onEvent });
        if (!Number.isFinite(p.ppl)) throw new PolyPruneError('INTERNAL', `Perplexity of row '${rec.rows[r].label}' on '${col.language}' is not a finite number.`);
        cell.ppl[s] = sig(p.ppl, 6);
        cell.bpb[s] = sig(p.bitsPerByte, 6);
        cellEvent(r, k, s);
        step('ppl', performance.now() - t, `${rec.rows[r].label} → ${col.language}: perplexity`, { row: r, col: k, seed: s });
      }
      const tasks = input.tasks ?? [];
      for (let j = 0; j < tasks.length; j++) {
        if (cell.acc[j][s] !== null) continue;
        throwIfAborted(signal);
        begin(`${rec.rows[r].label} → ${col.language}: ${tasks[j].label}`, { row: r, col: k, seed: s });
        const t = performance.now();
        const res = await engine.evalTask(id, { ...tasks[j].request, language: tasks[j].request.language ?? col.language, limit: spec.taskLimit ?? undefined }, { opId: opId(), onProgress: opts.onEvent });
        cell.acc[j][s] = sig(res.acc, 6);
        cell.se[j][s] = sig(res.acc_stderr, 6);
        col.tasks[j].n = res.n;
        cellEvent(r, k, s);
        step('task', performance.now() - t, `${rec.rows[r].label} → ${col.language}: ${tasks[j].label}`, { row: r, col: k, seed: s });
      }
    }
  };

  /** The engine request that prunes (and/or quantizes) row r's copy from its calibration source with one seed. */
  const pruneRequest = (r: number, seed: number): PruneRequest => {
    const v = variantOf(r);
    const src: StudySource | undefined = inputs.sources[rowSrc[r]];
    return {
      method: v.method,
      ...(v.nm ? { nm: v.nm } : v.sparsity > 0 ? { sparsity: v.sparsity } : {}),
      ...(v.quantize ? { quantize: { ...v.quantize } } : {}),
      calibration: !METHODS[v.method].calibrated || !src ? undefined : { texts: src.texts, nsamples: spec.nsamples, seqlen: spec.seqlen, seed },
      ...(spec.profile ? { profile: spec.profile as SparsityProfile, owlM: spec.owl?.m, owlLambda: spec.owl?.lambda } : {}),
      ...(spec.langBeta !== undefined && METHODS[v.method].perSource ? { langBeta: spec.langBeta } : {}),
    };
  };

  const masks = new Map<number, string>(); // row -> pruned model id whose mask the engine keeps
  const loaded = new Set<string>();

  // Instant rows: the calibration texts of all rows, each once (by content), collected in ONE dense
  // pass per seed; a row's weights put its own texts' (normalised) weights on them, 0 elsewhere.
  const statsSources: MixSourceRequest[] = [];
  const rowWeights: number[][] = rec.rows.map(() => []);
  if (instant) {
    const byHash = new Map<string, number>();
    const parts = rec.rows.map((row, r) =>
      r === 0
        ? []
        : inputs.sources[rowSrc[r]].texts.map((t, j) => {
            let k = byHash.get(row.sources[j].sha256);
            if (k === undefined) {
              k = statsSources.length;
              byHash.set(row.sources[j].sha256, k);
              let name = t.name;
              for (let n = 2; statsSources.some((x) => x.name === name); n++) name = `${t.name} (${n})`;
              statsSources.push({ name, ...(t.language ? { language: t.language } : {}), ...(t.bytes ? { bytes: t.bytes } : { text: t.text ?? '' }) });
            }
            return { k, w: row.mix!.weights[j] };
          }),
    );
    parts.forEach((ps, r) => {
      if (r === 0) return;
      rowWeights[r] = statsSources.map(() => 0);
      for (const p of ps) rowWeights[r][p.k] += p.w;
    });
  }
  /** Rows an instant seed has to derive: not finished, or (first seed) finished before a resume but needed again for their masks. */
  const instantRows = (s: number) => rec.rows.map((_, r) => r).filter((r) => r > 0 && (!rowDone(r, s) || (s === 0 && remask.has(r) && !masks.has(r))));
  const collect = async (s: number): Promise<StatsSummary> => {
    begin(`collecting the statistics of ${statsSources.length} calibration text${statsSources.length === 1 ? '' : 's'} in one pass (seed ${spec.seeds[s]})`, { seed: s });
    const t = performance.now();
    const stats = await engine.collectStats(
      baseModelId,
      { method: spec.method as CollectStatsRequest['method'], sources: statsSources, nsamples: spec.nsamples, seqlen: spec.seqlen, seed: spec.seeds[s] },
      { opId: opId(), onProgress: opts.onEvent },
    );
    step('prune', performance.now() - t, `collected the statistics of ${statsSources.length} calibration text${statsSources.length === 1 ? '' : 's'} in one pass (seed ${spec.seeds[s]})`, { seed: s });
    return stats;
  };
  // The first collection runs before anything is measured, so that what collectStats refuses (a
  // method it cannot mix, statistics beyond the GPU budget, a text too short for its windows) is
  // refused like any other bad input; other failures (cancel, a lost device) end in the record's note.
  let held: { seed: number; stats: StatsSummary } | null = null;
  let early: unknown = null;
  if (instant) {
    const s0 = spec.seeds.findIndex((_, s) => instantRows(s).length > 0);
    if (s0 >= 0) {
      try {
        held = { seed: s0, stats: await collect(s0) };
      } catch (e) {
        if (e instanceof PolyPruneError && (e.code === 'BAD_ARGUMENT' || e.code === 'CALIBRATION_INVALID')) {
          signal?.removeEventListener('abort', onAbort);
          throw e;
        }
        early = e;
      }
    }
  }

  /** One seed of an instant grid: its statistics (one pass), then per row mixPrune (or confirmMix) and the row's cells. */
  const instantSeed = async (s: number): Promise<void> => {
    const todo = instantRows(s);
    if (!todo.length) return;
    throwIfAborted(signal);
    const stats = held?.seed === s ? held.stats : await collect(s);
    held = null;
    let slot: string | null = null; // the handle's mixer model, re-masked by every mixPrune
    try {
      for (const r of todo) {
        throwIfAborted(signal);
        const row = rec.rows[r];
        const mix = row.mix!;
        const first = !rowDone(r, s); // else derived again only for its mask (resume)
        const keep = keepMaskOf(r, s);
        const v = variantOf(r);
        const req = { weights: rowWeights[r], method: v.method as CollectStatsRequest['method'], ...(v.nm ? { nm: v.nm } : v.sparsity > 0 ? { sparsity: v.sparsity } : {}), ...(v.quantize ? { quantize: { ...v.quantize } } : {}) };
        const again = `'${row.label}' again for its mask (seed ${spec.seeds[s]}; masks do not survive an interruption)`;
        begin(mix.mode === 'instant' ? `masks of '${row.label}' from the mixed statistics (seed ${spec.seeds[s]})` : `exact sequential prune of '${row.label}' (seed ${spec.seeds[s]})`, { row: r, seed: s });
        const t = performance.now();
        if (mix.mode === 'instant') {
          const res = await engine.mixPrune(stats.id, req, { opId: opId() });
          slot = res.model.id;
          if (first) {
            row.sparsity[s] = sig(res.overall, 6);
            row.recon[s] = null;
            mix.updateMs![s] = sig(res.updateMs, 4);
            emit({ kind: 'rowDone', row: r, seed: s, sparsity: res.overall, updateMs: res.updateMs });
            step('prune', performance.now() - t, `masks of '${row.label}' from the mixed statistics (seed ${spec.seeds[s]}, ${res.updateMs.toFixed(0)} ms)`, { row: r, seed: s });
            await measureRow(res.model.id, r, s);
          } else step('prune', performance.now() - t, `masks of ${again}`, { row: r, seed: s });
          if (keep) {
            // the mixer model becomes an ordinary pruned model whose mask the engine keeps
            await engine.keepMix(stats.id);
            slot = null;
            await engine.unloadModel(res.model.id, { keepMask: true });
            masks.set(r, res.model.id);
          }
        } else {
          const c = await engine.confirmMix(stats.id, req, {
            opId: opId(),
            onProgress: (e) => (e.kind === 'layerDone' ? first && emit({ ...e, row: r, seed: s }) : emit(e)),
          });
          slot = c.instant.model.id;
          loaded.add(c.exact.model.id);
          try {
            if (first) {
              const iou = c.layerIou.map((v) => sig(v, 4));
              row.sparsity[s] = sig(c.exact.report.overall, 6);
              row.recon[s] = null;
              // GPTQ: the share of equal integer codes per layer (the engine's `agreement`), else mask IoU
              const codes = c.agreement === 'codes-equal';
              if (codes) mix.layerCodes![s] = iou;
              else mix.layerIou![s] = iou;
              emit({ kind: 'rowDone', row: r, seed: s, sparsity: c.exact.report.overall, ...(codes ? { layerCodes: iou } : { layerIou: iou }) });
              step('prune', performance.now() - t, `exact sequential prune of '${row.label}' (seed ${spec.seeds[s]})`, { row: r, seed: s });
              await measureRow(c.exact.model.id, r, s);
            } else step('prune', performance.now() - t, `pruned ${again}`, { row: r, seed: s });
          } finally {
            loaded.delete(c.exact.model.id);
            await engine.unloadModel(c.exact.model.id, { keepMask: keep });
            if (keep) masks.set(r, c.exact.model.id);
          }
        }
      }
    } finally {
      if (slot) await engine.unloadModel(slot).catch(() => undefined);
      await engine.releaseStats(stats.id).catch(() => undefined);
    }
  };

  try {
    if (early) throw early;
    await measureRow(baseModelId, 0, 0);
    for (let s = 0; s < S; s++) {
      if (instant) await instantSeed(s);
      else for (let r = 1; r < R; r++) {
        if (rowDone(r, s)) continue;
        throwIfAborted(signal);
        begin(`pruning '${rec.rows[r].label}' (seed ${spec.seeds[s]})`, { row: r, seed: s });
        const t = performance.now();
        const pruned = await engine.prune(
          baseModelId,
          { ...pruneRequest(r, spec.seeds[s]), reconstructionError: specIn.reconstructionError !== false && METHODS[variantOf(r).method].calibrated },
          {
            opId: opId(),
            onProgress: (e) => emit(e.kind === 'layerDone' ? { ...e, row: r, seed: s } : e),
          },
        );
        loaded.add(pruned.model.id);
        const row = rec.rows[r];
        row.sparsity[s] = sig(pruned.report.overall, 6);
        const L = pruned.report.perMatrix.reduce((n, m) => Math.max(n, m.layer + 1), 0);
        const recon = Array.from({ length: L }, () => rec.matrices.map(() => null as number | null));
        let any = false;
        for (const m of pruned.report.perMatrix) {
          const e = m.reconError ?? null;
          if (e !== null) any = true;
          recon[m.layer][rec.matrices.indexOf(m.name)] = sig(e, 4);
        }
        row.recon[s] = any ? recon : null;
        if (row.layerSparsity) row.layerSparsity[s] = layerAchieved(pruned.report.perMatrix).map((v) => sig(v, 6) as number);
        emit({ kind: 'rowDone', row: r, seed: s, sparsity: pruned.report.overall });
        step('prune', performance.now() - t, `pruned '${row.label}' (seed ${spec.seeds[s]})`, { row: r, seed: s });
        try {
          await measureRow(pruned.model.id, r, s);
        } finally {
          loaded.delete(pruned.model.id);
          await engine.unloadModel(pruned.model.id, { keepMask: keepMaskOf(r, s) });
          if (keepMaskOf(r, s)) masks.set(r, pruned.model.id);
        }
      }
      if (wantIou && s === 0) {
        for (const r of remask) {
          if (masks.has(r) || instant) continue;
          throwIfAborted(signal);
          begin(`pruning '${rec.rows[r].label}' again for its mask (seed ${spec.seeds[0]})`, { row: r, seed: 0 });
          const t = performance.now();
          const again = await engine.prune(
            baseModelId,
            // The same request as the first run (profile and beta included), so the same mask.
            { ...pruneRequest(r, spec.seeds[0]), reconstructionError: false },
            // Its layers were reported in the first run: only the op's own progress goes on.
            { opId: opId(), onProgress: (e) => e.kind !== 'layerDone' && emit(e) },
          );
          loaded.add(again.model.id);
          await engine.unloadModel(again.model.id, { keepMask: true });
          loaded.delete(again.model.id);
          masks.set(r, again.model.id);
          step('prune', performance.now() - t, `pruned '${rec.rows[r].label}' again for its mask (seed ${spec.seeds[0]}; masks do not survive an interruption)`, { row: r, seed: 0 });
        }
        for (let a = 1; a < R; a++)
          for (let b = a + 1; b < R; b++) {
            if (rec.iou.some((m) => m.a === a && m.b === b && m.s === s)) continue;
            const ia = masks.get(a);
            const ib = masks.get(b);
            if (!ia || !ib) continue;
            throwIfAborted(signal);
            const t = performance.now();
            const o = await engine.maskOverlap(ia, ib);
            const v = o.iou.map((layer) => layer.map((x) => sig(x, 4)));
            rec.iou.push({ a, b, s, v });
            emit({ kind: 'maskOverlap', a, b, seed: s, matrices: o.matrices, iou: v });
            step('overlap', performance.now() - t, `mask overlap '${rec.rows[a].label}' / '${rec.rows[b].label}'`, { seed: s });
          }
        for (const id of masks.values()) await engine.releaseMask(id);
        masks.clear();
      }
    }
    rec.complete = true;
    delete rec.note;
  } catch (e) {
    rec.complete = false;
    rec.note = isCancel(e) || signal?.aborted ? 'Cancelled; the cells measured before are kept.' : `Stopped by an error: ${(e as Error).message ?? String(e)}`;
  } finally {
    signal?.removeEventListener('abort', onAbort);
    if (held) await engine.releaseStats(held.stats.id).catch(() => undefined);
    for (const id of loaded) await engine.unloadModel(id).catch(() => undefined);
    for (const id of masks.values()) await engine.releaseMask(id).catch(() => undefined);
  }
  return rec;
}

/** A markdown table of one metric: rows = dense + calibration sources, columns = evaluation languages; mean over seeds (± sd). */
export function studyMarkdown(rec: ExperimentRecord, metric: 'ppl' | 'bpb' | { task: number }): string {
  const cols = rec.columns.map((c, k) => ({ c, k })).filter(({ c }) => (typeof metric === 'object' ? metric.task < c.tasks.length : c.text !== null));
  const name = (c: ExperimentRecord['columns'][number]) => (typeof metric === 'object' ? `${c.language} (${c.tasks[metric.task].label})` : c.language);
  const vals = (r: number, k: number) => {
    const c = rec.cells[r][k];
    return typeof metric === 'object' ? c.acc[metric.task] : c[metric];
  };
  const higherBetter = typeof metric === 'object';
  const fmt = (r: number, k: number) => {
    const m = meanSpread(vals(r, k));
    if (!m) return '—';
    const d = typeof metric === 'object' ? 4 : metric === 'ppl' ? 2 : 4;
    return `${m.mean.toFixed(d)}${m.sd !== null ? ` ± ${m.sd.toFixed(d)}` : ''}`;
  };
  /** Best mean of the pruned rows of column k (rows tied with it are all best, all in bold), computed once per column. */
  const bestOf = new Map<number, number | null>();
  const best = (k: number): number | null => {
    if (bestOf.has(k)) return bestOf.get(k)!;
    let bv: number | null = null;
    for (let r = 1; r < rec.rows.length; r++) {
      const m = meanSpread(vals(r, k));
      if (m && (bv === null || (higherBetter ? m.mean > bv : m.mean < bv))) bv = m.mean;
    }
    bestOf.set(k, bv);
    return bv;
  };
  const isBest = (r: number, k: number): boolean => r > 0 && rec.rows.length > 2 && meanSpread(vals(r, k))?.mean === best(k);
  const lines = [`| calibration \\ eval | ${cols.map(({ c }) => name(c)).join(' | ')} |`, `|---|${cols.map(() => '---').join('|')}|`];
  rec.rows.forEach((row, r) => {
    lines.push(`| ${r === 0 ? 'dense (no pruning)' : row.label} | ${cols.map(({ k }) => (isBest(r, k) ? `**${fmt(r, k)}**` : fmt(r, k))).join(' | ')} |`);
  });
  return lines.join('\n');
}

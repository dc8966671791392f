/**
 * THE result record: one versioned, zod-validated shape for every kind of run (perplexity, prune,
 * task, experiment). Charts, `polyprune ... --json`, history and share links all read this, and
 * nothing else.
 *
 * Contract (keep the exported names stable; bump RECORD_VERSION on any incompatible change):
 * - Every record: `format: 'polyprune-result'`, `version` (this build writes and reads
 *   RECORD_VERSION), `kind`, `created` (ISO 8601), `tool.version` (PolyPrune), `adapter` (the
 *   WebGPU adapter description), `model` ({source, name, sha256}: sha256 is the model's CONTENT hash
 *   from {@link modelContentHash}, stable across reloads and machines, never a session id).
 * - Text inputs (calibration sources, held-out text, task files) appear as {@link SourceRef}:
 *   name, language (null when unknown), UTF-8 bytes, SHA-256 of the bytes, and for calibration mixes
 *   the relative weight.
 * - `experiment` (the study's grid), compact for share links (arrays, short keys):
 *     rows[r]     = dense (r = 0, `sources: []`) or one pruned model per calibration source / mix;
 *     columns[c]  = an evaluation language with its held-out text and zero or more tasks;
 *     cells[r][c] = { ppl[s], bpb[s], acc[t][s], se[t][s] } with s = seed index (spec.seeds), t = task
 *                   index of columns[c].tasks; `null` = not measured (yet). The dense row does not
 *                   depend on the seed: its arrays have ONE entry.
 *     rows[r].sparsity[s], rows[r].recon[s][layer][matrix] (relative reconstruction error
 *                   ||WX - W'X||^2 / ||WX||^2 on the calibration activations; matrix order = `matrices`),
 *     iou[k]      = { a, b, s, v[layer][matrix] }: mask IoU between rows a and b for seed index s
 *                   (runStudy measures it for the first seed only).
 *     rows[r].mix = instant grids (spec.instant): { mode: instant | confirm, weights[source],
 *                   windows[source], updateMs[s] (instant), layerIou[s][layer] (confirm) }.
 *   `complete: false` plus `note` marks a run stopped early (cancelled, error): what is there was
 *   measured, the rest is null.
 * - {@link parseResultRecord} validates untrusted input and says when a record is newer than this build.
 */
import { generatedSourceSchema } from '../calib/genSource';
import { z } from 'zod';
import { PolyPruneError } from '../common/errors';
import { VERSION } from '../common/version';
import { taskResultSchema } from '../eval/results';
import { TASK_NAMES } from '../eval/types';
import { PRUNE_METHODS, lookupMethod } from '../prune/method';
import { SPARSITY_PROFILES, layerAchieved } from '../prune/owl';

export const RECORD_FORMAT = 'polyprune-result';
/**
 * The newest record version this build reads (and writes where needed). A record carries the lowest
 * version that holds it, so builds that read only version 1 keep opening what they can show:
 * version 2 = an experiment whose rows use several methods or quantize (`spec.variants`, rows'
 * `variant`), or a prune record of a quantized model (`spec.quantize`: the mixer's GPTQ rows);
 * everything else is written as version 1. Optional fields that older builds can ignore
 * without misreading (rows' `size`) do not raise the version.
 */
export const RECORD_VERSION = 2;
/** The versions this build reads. */
const RECORD_VERSIONS = [1, 2] as const;
export type RecordVersion = (typeof RECORD_VERSIONS)[number];

const num = z.number().finite();
/**
 * Ranges, not only shapes: a record from a link or a file may hold anything, and an impossible value
 * (perplexity -5, sparsity 7.5) must be refused, not drawn. Perplexity = exp(mean NLL) >= 1.
 */
const pplNum = num.min(1, 'a perplexity is at least 1');
const ratio = num.min(0, 'must be between 0 and 1').max(1, 'must be between 0 and 1');
const nonneg = num.min(0, 'must not be negative');
/**
 * The most cells (rows x columns) an experiment record may hold, and so what `show` and the page
 * draw: far above any real grid (the paper's: 10 x 10), low enough that reading stays instant.
 */
export const MAX_RECORD_CELLS = 10_000;
/** The most bytes of a record file read by `polyprune show`/`share` and `grid --resume`. */
export const MAX_RECORD_BYTES = 16 * 1024 * 1024;
const sha256 = z.string().regex(/^[0-9a-f]{64}$/, 'expected a SHA-256 hex digest');
const int = z.number().int();

/** Where a text from the Hugging Face Hub came from (src/io/datasets/corpus.ts HubTextRef): re-runs and links fetch it again. */
export const hubTextRefSchema = z.object({
  spec: z.string().min(1),
  dataset: z.string().min(1),
  sha: z.string().regex(/^[0-9a-f]{40}$/, 'expected a commit sha'),
  offset: int.nonnegative(),
  bytes: int.positive(),
  files: z.array(z.string()),
});

/** A text input: calibration source, held-out text or task file. */
export const sourceRefSchema = z.object({
  name: z.string().min(1),
  language: z.string().min(1).nullable(),
  bytes: int.nonnegative(),
  sha256,
  /** Relative share of the calibration windows (mixes only; default 1). */
  weight: num.positive().optional(),
  /** Text read from the Hub: its provenance, so a re-run fetches exactly that text again. */
  hub: hubTextRefSchema.optional(),
  /** Set for text the model wrote itself: how to write it again. */
  generated: generatedSourceSchema.optional(),
});
export type SourceRef = z.infer<typeof sourceRefSchema>;

export const modelRefSchema = z.object({
  /** Where it was loaded from (URL, folder path or file names). */
  source: z.string(),
  name: z.string(),
  /** Content hash, see modelContentHash. */
  sha256,
  modelType: z.string().optional(),
  parameters: int.nonnegative().optional(),
  layers: int.nonnegative().optional(),
});
export type ModelRef = z.infer<typeof modelRefSchema>;

const header = {
  format: z.literal(RECORD_FORMAT),
  version: z.union([z.literal(RECORD_VERSIONS[0]), z.literal(RECORD_VERSIONS[1])]),
  created: z.string().min(1),
  tool: z.object({ version: z.string() }),
  adapter: z.string(),
  model: modelRefSchema,
};

const nmSchema = z.object({ n: int.min(1), m: int.min(2) });
const methodSchema = z.enum(PRUNE_METHODS);
/**
 * Optional spec fields (absent = the defaults, so older records stay valid and equal): `profile`
 * 'owl' with its `owl` {m, lambda} (layer-wise sparsity), and `langBeta` for wanda-lang.
 */
const profileFields = {
  profile: z.enum(SPARSITY_PROFILES as unknown as [string, ...string[]]).optional(),
  owl: z.object({ m: num.positive(), lambda: num.positive() }).optional(),
  langBeta: num.min(0).optional(),
};

export const perplexityResultRecordSchema = z.object({
  ...header,
  kind: z.literal('perplexity'),
  settings: z.object({ seqlen: int.min(2), stride: int.min(1).nullable(), maxWindows: int.min(1).nullable() }),
  text: sourceRefSchema,
  result: z.object({
    language: z.string().min(1),
    ppl: pplNum,
    meanNll: num.nonnegative(),
    bpb: nonneg.nullable(),
    tokens: int.positive(),
    bytes: int.nonnegative(),
    windows: int.nonnegative(),
  }),
});

export const taskResultRecordSchema = z.object({
  ...header,
  kind: z.literal('task'),
  settings: z.object({ task: z.enum(TASK_NAMES), language: z.string().min(1), limit: int.min(1).nullable() }),
  file: sourceRefSchema,
  result: taskResultSchema,
});

/** The quantizer of a row (GPTQ, or SparseGPT's joint prune + quantize): bits, columns per group (-1 per channel). */
export const quantizeSpecSchema = z.object({ bits: int.refine((b) => [2, 3, 4, 8].includes(b), 'bits are 2, 3, 4 or 8'), groupSize: int.min(-1).refine((g) => g !== 0, 'a group size is -1 (per channel) or a number of columns'), actOrder: z.boolean(), staticGroups: z.boolean() });

export const pruneSpecSchema = z.object({
  method: methodSchema,
  /** Resolved target: the ratio, or (m - n) / m for N:M; 0 for a model only quantized (`quantize`, version 2). */
  sparsity: num.min(0).lt(1),
  /** A quantized model (version 2; the calibration mixer's GPTQ rows): bits, columns per group, act-order, static groups. */
  quantize: quantizeSpecSchema.optional(),
  nm: nmSchema.nullable(),
  nsamples: int.min(1).nullable(),
  seqlen: int.min(1).nullable(),
  seed: int.min(0).nullable(),
  ...profileFields,
});
export type PruneSpecRecord = z.infer<typeof pruneSpecSchema>;

/** A calibration mixer run (docs/mixer.md): weights per calibration source (same order as `calibration`). */
export const mixSpecSchema = z.object({
  /** 'instant': masks from the mixed dense statistics (one pass); 'confirm': the sequential prune of the mix. */
  mode: z.enum(['instant', 'confirm']),
  /** Normalised weights (sum 1), one per calibration source. */
  weights: z.array(num.min(0).max(1)),
  /** Windows per source: collected and used (instant) or drawn for the mix (confirm). */
  windows: z.array(int.min(0)),
  /** Engine time of one instant update (ms); absent for confirm. */
  updateMs: num.min(0).optional(),
  /** confirm: mean mask IoU per layer against the instant masks of the same mix. */
  layerIou: z.array(ratio.nullable()).optional(),
  /** confirm of a quantizing method (GPTQ): per layer the mean share of integer codes equal to the instant model's (instead of `layerIou`). */
  layerCodes: z.array(ratio.nullable()).optional(),
});
export type MixSpecRecord = z.infer<typeof mixSpecSchema>;

export const pruneResultRecordSchema = z.object({
  ...header,
  kind: z.literal('prune'),
  /** Set for calibration mixer runs. */
  mix: mixSpecSchema.optional(),
  spec: pruneSpecSchema,
  calibration: z.array(sourceRefSchema),
  overall: num.min(0).max(1),
  /** Matrix names (wanda find_layers order), the inner index of sparsity/recon. */
  matrices: z.array(z.string()),
  /** sparsity[layer][matrix] */
  sparsity: z.array(z.array(num.min(0).max(1))),
  /** recon[layer][matrix]: relative reconstruction error; null when not measured (magnitude). */
  recon: z.array(z.array(nonneg.nullable())).nullable(),
  /** OWL: per decoder layer the outlier ratio (%), the sparsity it was pruned at and the one it reached. */
  layerSparsity: z.object({ outlierRatio: z.array(num.min(0).max(100).nullable()), target: z.array(num.min(0).max(1)), achieved: z.array(num.min(0).max(1)) }).optional(),
});


/**
 * One method of a multi-method experiment (version 2): the rows of this variant are one model per
 * calibration source pruned and/or quantized with these settings. `sparsity` 0 with `quantize`: quantized only.
 */
export const experimentVariantSchema = z.object({
  method: methodSchema,
  sparsity: num.min(0).lt(1),
  nm: nmSchema.nullable(),
  quantize: quantizeSpecSchema.nullable(),
});

export const experimentSpecSchema = z.object({
  /** The first variant's method and pattern (version 1: the only one). */
  method: methodSchema,
  sparsity: num.min(0).lt(1),
  nm: nmSchema.nullable(),
  nsamples: int.min(1),
  seqlen: int.min(2),
  seeds: z.array(int.min(0)).min(1),
  evalSeqlen: int.min(2),
  evalMaxWindows: int.min(1).nullable(),
  taskLimit: int.min(1).nullable(),
  ...profileFields,
  /**
   * Instant rows (docs/mixer.md, "The grid"): per seed one dense pass collects every calibration
   * source's statistics and each row's masks come from them (engine.mixPrune); absent = sequential prunes.
   */
  instant: z.literal(true).optional(),
  /** With `instant`: each row is followed by its exact sequential prune (engine.confirmMix). */
  confirm: z.literal(true).optional(),
  /** Version 2: the methods side by side (rows' `variant` indexes them); absent = one method, `method`/`sparsity`/`nm`. */
  variants: z.array(experimentVariantSchema).min(1).optional(),
});
export type ExperimentSpecRecord = z.infer<typeof experimentSpecSchema>;
export type ExperimentVariant = z.infer<typeof experimentVariantSchema>;

export const experimentRowSchema = z.object({
  label: z.string().min(1),
  /** Calibration sources of this row (several = a mix); [] for the dense row. */
  sources: z.array(sourceRefSchema),
  /** Overall sparsity reached, per seed ([] for dense). */
  sparsity: z.array(ratio.nullable()),
  /** recon[seed][layer][matrix], null per seed when not measured. */
  recon: z.array(z.array(z.array(nonneg.nullable())).nullable()),
  /** OWL: layerSparsity[seed][layer], the sparsity each decoder layer reached (null until pruned). */
  layerSparsity: z.array(z.array(ratio.nullable()).nullable()).optional(),
  /** Version 2: the index in spec.variants of this row's method (absent for the dense row). */
  variant: int.min(0).optional(),
  /**
   * Bytes of the weight files of this row's exported model (src/experiment/size.ts) and
   * their format: 'safetensors' (the HF folder, dense storage) or 'gptq' (the HF GPTQ folder).
   */
  size: z.object({ bytes: int.min(0), format: z.enum(['safetensors', 'gptq']) }).optional(),
  /** Rows of an instant grid (spec.instant): how the row's masks were made. */
  mix: z
    .object({
      /** 'instant': masks from the mixed dense statistics; 'confirm': the exact sequential prune of the same mix. */
      mode: z.enum(['instant', 'confirm']),
      /** Normalised weights (sum 1), one per source of the row (a single source: [1]). */
      weights: z.array(num.min(0).max(1)),
      /** Windows per source of the row: collected (instant) or drawn from them for the exact prune (confirm). */
      windows: z.array(int.min(0)),
      /** instant: engine time of the mask update per seed (ms; null until pruned). */
      updateMs: z.array(nonneg.nullable()).optional(),
      /** confirm: per seed the mean mask IoU per layer against the instant row's masks (null until pruned). */
      layerIou: z.array(z.array(ratio.nullable()).nullable()).optional(),
      /** confirm of a quantizing method (GPTQ): per seed the mean share of integer codes equal to the instant row's, per layer (instead of `layerIou`; null until quantized). */
      layerCodes: z.array(z.array(ratio.nullable()).nullable()).optional(),
    })
    .optional(),
});
export type ExperimentRow = z.infer<typeof experimentRowSchema>;

export const experimentTaskSchema = z.object({
  task: z.enum(TASK_NAMES),
  /** What the user called it (file name or lm-eval name, e.g. xcopa_it). */
  label: z.string().min(1),
  file: sourceRefSchema,
  /** Items scored. */
  n: int.nonnegative().nullable(),
});

export const experimentColumnSchema = z.object({
  language: z.string().min(1),
  /** Held-out text for perplexity; null when this column has tasks only. */
  text: sourceRefSchema.nullable(),
  tasks: z.array(experimentTaskSchema),
});
export type ExperimentColumn = z.infer<typeof experimentColumnSchema>;

export const experimentCellSchema = z.object({
  ppl: z.array(pplNum.nullable()),
  bpb: z.array(nonneg.nullable()),
  /** acc[task][seed] */
  acc: z.array(z.array(ratio.nullable())),
  /** se[task][seed]: acc_stderr */
  se: z.array(z.array(ratio.nullable())),
});
export type ExperimentCell = z.infer<typeof experimentCellSchema>;

export const maskIouSchema = z.object({ a: int.min(0), b: int.min(0), s: int.min(0), v: z.array(z.array(ratio.nullable())) });
export type MaskIou = z.infer<typeof maskIouSchema>;

export const experimentRecordSchema = z.object({
  ...header,
  kind: z.literal('experiment'),
  spec: experimentSpecSchema,
  matrices: z.array(z.string()),
  rows: z.array(experimentRowSchema).min(1),
  columns: z.array(experimentColumnSchema).min(1),
  cells: z.array(z.array(experimentCellSchema)),
  iou: z.array(maskIouSchema),
  complete: z.boolean(),
  note: z.string().optional(),
});
export type ExperimentRecord = z.infer<typeof experimentRecordSchema>;

export const resultRecordSchema = z.discriminatedUnion('kind', [perplexityResultRecordSchema, taskResultRecordSchema, pruneResultRecordSchema, experimentRecordSchema]);
export type ResultRecord = z.infer<typeof resultRecordSchema>;
export type PerplexityResultRecord = z.infer<typeof perplexityResultRecordSchema>;
export type TaskResultRecord = z.infer<typeof taskResultRecordSchema>;
export type PruneResultRecord = z.infer<typeof pruneResultRecordSchema>;

/** The fields every record starts with. */
export function recordHeader(model: ModelRef, adapter: string, created = new Date(), version: RecordVersion = 1): { format: typeof RECORD_FORMAT; version: RecordVersion; created: string; tool: { version: string }; adapter: string; model: ModelRef } {
  return { format: RECORD_FORMAT, version, created: created.toISOString(), tool: { version: VERSION }, adapter, model };
}

/**
 * Validate an untrusted record (share link, history entry, a file). Throws BAD_ARGUMENT with one
 * line saying what is wrong; a record from a newer PolyPrune is named as such.
 */
export function parseResultRecord(value: unknown): ResultRecord {
  if (typeof value === 'string') {
    try {
      value = JSON.parse(value);
    } catch {
      throw new PolyPruneError('BAD_ARGUMENT', 'This is not a PolyPrune result: it is not valid JSON.');
    }
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new PolyPruneError('BAD_ARGUMENT', 'This is not a PolyPrune result: expected a JSON object.');
  const v = value as { format?: unknown; version?: unknown; kind?: unknown };
  if (v.format !== RECORD_FORMAT) throw new PolyPruneError('BAD_ARGUMENT', `This is not a PolyPrune result (format is ${JSON.stringify(v.format) ?? 'missing'}, expected '${RECORD_FORMAT}').`);
  if (typeof v.version !== 'number' || !Number.isInteger(v.version) || v.version < 1) throw new PolyPruneError('BAD_ARGUMENT', `This PolyPrune result has no valid version (got ${JSON.stringify(v.version) ?? 'nothing'}).`);
  if (v.version > RECORD_VERSION) {
    throw new PolyPruneError('RECORD_NEWER', `This result was made by a newer PolyPrune (record version ${v.version}; this build ${VERSION} reads up to version ${RECORD_VERSION}). Update PolyPrune to open it.`);
  }
  const r = resultRecordSchema.safeParse(value);
  if (!r.success) {
    const issue = r.error.issues[0];
    const where = issue?.path.length ? issue.path.join('.') : '(top level)';
    throw new PolyPruneError('BAD_ARGUMENT', `Invalid PolyPrune ${typeof v.kind === 'string' ? `${v.kind} ` : ''}result at '${where}': ${issue?.message ?? r.error.message}.`);
  }
  const rec = r.data;
  if (rec.kind === 'experiment') checkExperimentShape(rec);
  if (rec.kind === 'prune') {
    if (rec.spec.quantize && rec.version < 2) throw new PolyPruneError('BAD_ARGUMENT', 'Invalid PolyPrune prune result: a quantized model (spec.quantize) needs record version 2.');
    if (!rec.spec.quantize && rec.spec.sparsity === 0) throw new PolyPruneError('BAD_ARGUMENT', "Invalid PolyPrune prune result at 'spec.sparsity': a pruned model's sparsity is above 0.");
  }
  return rec;
}

/** Cross-field checks zod cannot express: the cells grid matches rows x columns x seeds x tasks. */
function checkExperimentShape(e: ExperimentRecord): void {
  const bad = (msg: string): never => {
    throw new PolyPruneError('BAD_ARGUMENT', `Invalid PolyPrune experiment result: ${msg}.`);
  };
  const S = e.spec.seeds.length;
  const V = e.spec.variants?.length ?? 0;
  if (V && e.version < 2) bad('rows of several methods (spec.variants) need record version 2');
  e.rows.forEach((row, r) => {
    if (row.variant !== undefined && row.variant >= V) bad(`row ${r} names method variant ${row.variant}, but the spec has ${V}`);
    if (row.variant !== undefined && e.version < 2) bad(`row ${r} has a method variant, which needs record version 2`);
  });
  if (e.rows.length * e.columns.length > MAX_RECORD_CELLS) bad(`${e.rows.length} rows x ${e.columns.length} columns is more than the ${MAX_RECORD_CELLS.toLocaleString('en-US')} cells a record may hold`);
  if (e.cells.length !== e.rows.length) bad(`${e.rows.length} rows but ${e.cells.length} rows of cells`);
  e.cells.forEach((row, r) => {
    if (row.length !== e.columns.length) bad(`row ${r} has ${row.length} cells for ${e.columns.length} columns`);
    const seeds = r === 0 ? 1 : S;
    row.forEach((c, k) => {
      const T = e.columns[k].tasks.length;
      if (c.ppl.length !== seeds || c.bpb.length !== seeds) bad(`cell [${r}][${k}] has ${c.ppl.length} perplexities for ${seeds} seed(s)`);
      if (c.acc.length !== T || c.se.length !== T) bad(`cell [${r}][${k}] has ${c.acc.length} task results for ${T} task(s)`);
      for (const a of [...c.acc, ...c.se]) if (a.length !== seeds) bad(`cell [${r}][${k}] has a task result with ${a.length} values for ${seeds} seed(s)`);
    });
  });
  e.rows.forEach((row, r) => {
    if (row.layerSparsity && row.layerSparsity.length !== S) bad(`row ${r} has per-layer sparsity for ${row.layerSparsity.length} seed(s), expected ${S}`);
    const mix = row.mix;
    if (mix) {
      if (mix.weights.length !== row.sources.length || mix.windows.length !== row.sources.length) bad(`row ${r} has mix weights or windows for ${mix.weights.length} source(s), expected ${row.sources.length}`);
      if (mix.updateMs && mix.updateMs.length !== S) bad(`row ${r} has mix update times for ${mix.updateMs.length} seed(s), expected ${S}`);
      if (mix.layerIou && mix.layerIou.length !== S) bad(`row ${r} has per-layer IoU for ${mix.layerIou.length} seed(s), expected ${S}`);
      if (mix.layerCodes && mix.layerCodes.length !== S) bad(`row ${r} has per-layer code agreement for ${mix.layerCodes.length} seed(s), expected ${S}`);
    }
  });
  for (const m of e.iou) if (m.a >= e.rows.length || m.b >= e.rows.length || m.s >= S) bad(`mask overlap refers to row ${m.a}/${m.b}, seed ${m.s}, which do not exist`);
}

/** Mean and sample standard deviation of the measured (non-null) values; null when none. */
export function meanSpread(values: readonly (number | null)[]): { mean: number; sd: number | null; n: number } | null {
  const xs = values.filter((x): x is number => x !== null);
  if (!xs.length) return null;
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  if (xs.length < 2) return { mean, sd: null, n: 1 };
  const v = xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (xs.length - 1);
  return { mean, sd: Math.sqrt(v), n: xs.length };
}

/** Round to `digits` significant digits (records keep 6 for metrics, 4 for chart-only detail). */
export function sig(x: number | null, digits: number): number | null {
  if (x === null || !Number.isFinite(x) || x === 0) return x === null || Number.isFinite(x) ? x : null;
  return Number(x.toPrecision(digits));
}

// ---------------------------------------------------------------------------------------------
// Builders: the record of a single run, from what the engine returns.

/** The model identity of a record from the engine's ModelSummary. */
export function modelRefOf(m: { source: string; name: string; sha256: string; modelType?: string; parameters?: number; numLayers?: number }): ModelRef {
  return { source: m.source, name: m.name, sha256: m.sha256, modelType: m.modelType, parameters: m.parameters, layers: m.numLayers };
}

/** A perplexity run (engine.perplexity) on `text`. */
export function perplexityResultRecord(
  header: ReturnType<typeof recordHeader>,
  text: SourceRef,
  settings: { seqlen: number; stride?: number; maxWindows?: number },
  r: { language?: string; ppl: number; meanNll: number; bitsPerByte: number | null; tokens: number; bytes: number; windows: number },
): PerplexityResultRecord {
  return perplexityResultRecordSchema.parse({
    ...header,
    kind: 'perplexity',
    settings: { seqlen: settings.seqlen, stride: settings.stride ?? null, maxWindows: settings.maxWindows ?? null },
    text,
    result: { language: r.language ?? text.language ?? 'und', ppl: r.ppl, meanNll: r.meanNll, bpb: r.bitsPerByte, tokens: r.tokens, bytes: r.bytes, windows: r.windows },
  });
}

/** A task run (engine.evalTask) on `file`; per-item detail is dropped. */
export function taskResultRecord(header: ReturnType<typeof recordHeader>, file: SourceRef, limit: number | undefined, r: z.input<typeof taskResultSchema> & { perItem?: unknown }): TaskResultRecord {
  const { perItem: _perItem, ...result } = r;
  return taskResultRecordSchema.parse({ ...header, kind: 'task', settings: { task: r.task, language: r.language, limit: limit ?? null }, file, result });
}

/** A prune run (engine.prune): spec, calibration sources, per-matrix sparsity and reconstruction error. */
export function pruneResultRecord(
  header: ReturnType<typeof recordHeader>,
  req: { method: string; sparsity?: number; nm?: { n: number; m: number }; calibration?: { nsamples: number; seqlen: number; seed?: number } | { windows: { n: number; seqlen: number } }; langBeta?: number; quantize?: { bits: number; groupSize?: number; actOrder?: boolean; staticGroups?: boolean } },
  calibration: SourceRef[],
  report: {
    overall: number;
    perMatrix: { layer: number; name: string; sparsity: number; zeros?: number; numel?: number; reconError?: number | null }[];
    layerProfile?: { profile: 'uniform' } | { profile: 'owl'; m: number; lambda: number; outlierRatio: number[]; target: number[] };
    languageAware?: { beta: number };
  },
  matrices: readonly string[],
  mix?: MixSpecRecord,
): PruneResultRecord {
  const L = report.perMatrix.reduce((n, m) => Math.max(n, m.layer + 1), 0);
  const grid = <T>(f: (m: (typeof report.perMatrix)[number]) => T, empty: T): T[][] => {
    const out = Array.from({ length: L }, () => matrices.map(() => empty));
    for (const m of report.perMatrix) out[m.layer][matrices.indexOf(m.name)] = f(m);
    return out;
  };
  const lp = report.layerProfile;
  const measured = report.perMatrix.some((m) => m.reconError !== undefined && m.reconError !== null);
  const c = !req.calibration ? null : 'windows' in req.calibration ? { nsamples: req.calibration.windows.n, seqlen: req.calibration.windows.seqlen, seed: null } : { ...req.calibration, seed: req.calibration.seed ?? 0 };
  const q = req.quantize;
  return pruneResultRecordSchema.parse({
    ...header,
    // a quantized model needs version 2 (spec.quantize); everything else stays readable by version-1 builds
    ...(q ? { version: 2 } : {}),
    kind: 'prune',
    ...(mix ? { mix } : {}),
    spec: {
      method: req.method,
      sparsity: req.nm ? (req.nm.m - req.nm.n) / req.nm.m : (req.sparsity ?? (q ? 0 : undefined)),
      ...(q ? { quantize: { bits: q.bits, groupSize: q.groupSize ?? 128, actOrder: !!q.actOrder, staticGroups: !!q.staticGroups } } : {}),
      nm: req.nm ?? null,
      nsamples: c?.nsamples ?? null,
      seqlen: c?.seqlen ?? null,
      seed: c?.seed ?? null,
      ...profileSpec(req.method, lp, report.languageAware?.beta ?? req.langBeta),
    },
    calibration,
    overall: report.overall,
    matrices: [...matrices],
    sparsity: grid((m) => sig(m.sparsity, 6) as number, 0),
    recon: measured ? grid((m) => sig(m.reconError ?? null, 4), null as number | null) : null,
    ...(lp?.profile === 'owl' ? { layerSparsity: { outlierRatio: lp.outlierRatio.map((v) => sig(v, 6)), target: lp.target.map((v) => sig(v, 6)), achieved: layerAchieved(report.perMatrix).map((v) => sig(v, 6)) } } : {}),
  });
}

/** The optional spec fields for a layer profile and wanda-lang's beta (absent for the defaults' uniform profile). */
export function profileSpec(method: string, lp: { profile: string; m?: number; lambda?: number } | undefined, langBeta: number | undefined): { profile?: string; owl?: { m: number; lambda: number }; langBeta?: number } {
  return {
    ...(lp && lp.profile === 'owl' ? { profile: 'owl', owl: { m: lp.m as number, lambda: lp.lambda as number } } : {}),
    ...(lookupMethod(method)?.perSource ? { langBeta: langBeta ?? 1 } : {}),
  };
}


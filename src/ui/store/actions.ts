/**
 * Module-level actions: the only place where the UI calls the engine. Each action runs one engine
 * operation, feeds its progress into the store and turns its errors into messages.
 */
import { PolyPruneError } from '../../common/errors';
import { isHubId } from '../../engine/hub';
import type { Engine, ModelSpec, ModelSummary, OpOptions, PerplexityResult, PruneRequest, TaskName, TaskResult } from '../../engine/api';
import type { TaskRecord } from '../../eval/results';
import { TASKS } from '../../eval/tasks/index';
import type { GridSpec } from '../../experiment/grid';
import { calibTextUrl, defaultModelUrl, DEFAULT_MODEL_DIR, DEFAULT_MODEL_NAME, evalTextUrl, splitJsonUrl, UDHR_DIR, udhrFileUrl, udhrIndexUrl } from '../paths';
import { fmtBytes } from '../format';
import { saveBlob, zipFileName } from '../download';
import { useAppStore } from './index';
import type { Panel } from './messagesSlice';
import type { OpPanel } from './opsSlice';
import type { PruneMethod, SparsityPattern } from './pruneSlice';

let engine: Engine | null = null;

/** Called once by main.tsx with the worker client. */
export function connectEngine(e: Engine): void {
  engine = e;
}

function getEngine(): Engine {
  if (!engine) throw new PolyPruneError('INTERNAL', 'The engine is not started yet.');
  return engine;
}

const store = useAppStore.getState;

export function errorCode(e: unknown): string {
  return e instanceof PolyPruneError ? e.code : 'INTERNAL';
}

export function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

export function reportError(panel: Panel, e: unknown): void {
  const code = errorCode(e);
  if (code === 'CANCELLED') store().pushMessage({ panel, level: 'info', text: 'Cancelled.' });
  else store().pushMessage({ panel, level: 'error', code, text: errorText(e) });
}

let opCounter = 0;
/** Abort controllers of running ops: operations made of several engine calls check them between calls. */
const controllers = new Map<string, AbortController>();

/**
 * Run one engine operation: registers it as the running op (for progress and Cancel), reports its
 * error in `panel`. Returns undefined when it failed or another op is running. `signal` is aborted by
 * Cancel, for operations that make several engine calls (each call also gets the op's `opId`).
 */
async function runOp<T>(panel: OpPanel, label: string, fn: (opts: OpOptions & { opId: string }, signal: AbortSignal) => Promise<T>): Promise<T | undefined> {
  const s = store();
  if (s.running) {
    s.pushMessage({ panel, level: 'info', text: `Wait for "${s.running.label}" to finish, or cancel it.` });
    return undefined;
  }
  const opId = `op${++opCounter}`;
  const controller = new AbortController();
  controllers.set(opId, controller);
  s.clearMessages(panel);
  s.startOp({ opId, label, panel });
  try {
    return await fn({ opId, onProgress: (p) => store().setOpProgress(opId, p) }, controller.signal);
  } catch (e) {
    reportError(panel, e);
    return undefined;
  } finally {
    controllers.delete(opId);
    store().endOp(opId);
  }
}

function throwIfCancelled(signal: AbortSignal): void {
  if (signal.aborted) throw new PolyPruneError('CANCELLED', 'Cancelled.');
}

export async function cancelRunning(): Promise<void> {
  const op = store().running;
  if (!op) return;
  store().setCancelling(op.opId);
  controllers.get(op.opId)?.abort();
  try {
    await getEngine().cancel(op.opId);
  } catch (e) {
    reportError(op.panel, e);
  }
}

// ------------------------------------------------------------------ start-up

export async function initApp(): Promise<void> {
  await Promise.all([
    detectGpu(),
    (async () => {
      // The UDHR defaults follow the model's languages, so the list comes first.
      await loadLanguageList();
      await loadUdhrIndex();
    })(),
  ]);
}

export async function detectGpu(): Promise<void> {
  const api = typeof navigator !== 'undefined' && 'gpu' in navigator && navigator.gpu !== undefined;
  store().setGpu({ state: 'checking' });
  try {
    const info = await getEngine().gpuInfo();
    store().setGpu({ state: 'ready', info });
  } catch (e) {
    store().setGpu({ state: 'unavailable', api, code: errorCode(e), message: errorText(e) });
  }
}

/**
 * Fetch a bundled text file. Static hosts (and `vite preview`) may answer a missing file with the
 * app's index.html, so an HTML answer counts as missing.
 */
async function fetchBundled(url: string, what: string): Promise<string> {
  let res: Response;
  try {
    res = await fetch(url);
  } catch (e) {
    throw new PolyPruneError('FETCH_FAILED', `Could not fetch ${what} (${url}): ${errorText(e)}.`);
  }
  const type = res.headers.get('content-type') ?? '';
  if (!res.ok || type.includes('text/html')) {
    throw new PolyPruneError('FILE_NOT_FOUND', `${what} is not in this build (${url}: ${res.ok ? 'got an HTML page' : `HTTP ${res.status}`}).`);
  }
  return res.text();
}

export async function loadLanguageList(): Promise<void> {
  store().setLanguages({ state: 'loading' });
  try {
    const text = await fetchBundled(splitJsonUrl(), `The language list ${DEFAULT_MODEL_DIR}split.json`);
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw new PolyPruneError('FILE_NOT_FOUND', `${DEFAULT_MODEL_DIR}split.json is not valid JSON.`);
    }
    const langs = (json as { languages?: unknown }).languages;
    const list = Array.isArray(langs) ? langs.map(String) : langs && typeof langs === 'object' ? Object.keys(langs) : [];
    if (!list.length) throw new PolyPruneError('FILE_NOT_FOUND', `${DEFAULT_MODEL_DIR}split.json lists no languages.`);
    store().setLanguages({ state: 'ready', languages: [...list].sort() });
    if (!list.includes(store().calibLanguage)) store().setCalibLanguage(list.includes('en') ? 'en' : list[0]);
    const sorted = [...list].sort();
    if (!store().matrixCalib.length) store().setMatrixCalib(sorted);
    if (!store().matrixEval.length) store().setMatrixEval(sorted);
  } catch (e) {
    store().setLanguages({ state: 'missing', message: `${errorText(e)} Bundled texts are unavailable; paste or drop your own text instead.` });
  }
}

// ------------------------------------------------------------------ models

export type ModelSource = { kind: 'bundled' } | { kind: 'url'; url: string } | { kind: 'files'; files: File[]; name: string };

export async function loadModel(source: ModelSource): Promise<ModelSummary | undefined> {
  let spec: ModelSpec;
  let label: string;
  if (source.kind === 'bundled') {
    spec = { kind: 'url', url: defaultModelUrl(), name: DEFAULT_MODEL_NAME };
    label = `Loading ${DEFAULT_MODEL_NAME}`;
  } else if (source.kind === 'url') {
    const raw = source.url.trim();
    if (!raw) {
      store().pushMessage({ panel: 'model', level: 'error', code: 'BAD_ARGUMENT', text: 'Enter the URL of a model folder (the folder that holds config.json).' });
      return undefined;
    }
    if (isHubId(raw) && !raw.startsWith('.') && !raw.startsWith('/')) {
      spec = { kind: 'hub', id: raw };
      label = `Loading ${raw} from the Hugging Face Hub`;
    } else {
      let url: string;
      try {
        url = new URL(raw, document.baseURI).href;
      } catch {
        store().pushMessage({ panel: 'model', level: 'error', code: 'BAD_ARGUMENT', text: `'${raw}' is not a valid URL.` });
        return undefined;
      }
      spec = { kind: 'url', url };
      label = `Loading ${url}`;
    }
  } else {
    spec = { kind: 'files', files: source.files, name: source.name };
    label = `Loading ${source.name}`;
  }
  const summary = await runOp('model', label, async (opts) => {
    if (source.kind === 'bundled') await fetchBundled(`${defaultModelUrl()}config.json`, `The bundled model (${DEFAULT_MODEL_DIR}config.json)`);
    if (spec.kind === 'url' || spec.kind === 'hub') {
      // What loading needs against this adapter, from config.json and the headers only: refuse before downloading.
      const plan = await getEngine().plan(spec, { method: 'evaluate' });
      if (plan.problems.length) throw new PolyPruneError('GPU_LIMITS', `This model cannot run on this GPU: ${plan.problems.join(' ')}`);
      if (plan.downloadBytes > 256 * 2 ** 20) {
        store().pushMessage({ panel: 'model', level: 'info', text: `Downloading ${fmtBytes(plan.downloadBytes)} of weights; the GPU will hold about ${fmtBytes(plan.gpuPeakBytes)} (largest buffer ${fmtBytes(plan.biggestBinding.bytes)}, this GPU allows ${fmtBytes(plan.limits.maxBindingBytes)} per buffer).` });
      }
    }
    return getEngine().loadModel(spec, opts);
  });
  if (summary) {
    store().addModel(summary);
    if (summary.cacheNote) store().pushMessage({ panel: 'model', level: 'info', text: summary.cacheNote });
  }
  return summary;
}

/** The browser cache of downloaded weights (null while the engine is unavailable). */
export async function weightCacheInfo(): Promise<{ available: boolean; entries: number; bytes: number } | null> {
  try {
    return await getEngine().cacheInfo();
  } catch {
    return null;
  }
}

export async function clearWeightCache(): Promise<void> {
  try {
    await getEngine().clearCache();
    store().pushMessage({ panel: 'model', level: 'info', text: 'Cached weights cleared: the next load downloads them again.' });
  } catch (e) {
    reportError('model', e);
  }
}

export async function unloadModel(id: string): Promise<void> {
  if (store().running) {
    store().pushMessage({ panel: 'model', level: 'info', text: 'Wait for the running operation to finish, or cancel it.' });
    return;
  }
  try {
    await getEngine().unloadModel(id);
    store().removeModel(id);
    store().clearPplResults(id);
    store().clearPruneReport(id);
  } catch (e) {
    reportError('model', e);
  }
}

// ------------------------------------------------------------------ perplexity

const textCache = new Map<string, Promise<string>>();

function bundledText(url: string, what: string): Promise<string> {
  let p = textCache.get(url);
  if (!p) {
    p = fetchBundled(url, what);
    textCache.set(url, p);
    p.catch(() => textCache.delete(url));
  }
  return p;
}

function activeModel(panel: Panel): ModelSummary | undefined {
  const s = store();
  const m = s.models.find((x) => x.id === s.activeModelId);
  if (!m) s.pushMessage({ panel, level: 'error', code: 'BAD_ARGUMENT', text: 'Load a model first.' });
  return m;
}

function checkedSizes(panel: Panel): { seqlen: number; maxWindows: number } | undefined {
  const { seqlen, maxWindows } = store();
  if (!Number.isInteger(seqlen) || seqlen < 2) {
    store().pushMessage({ panel, level: 'error', code: 'BAD_ARGUMENT', text: 'Sequence length must be a whole number of at least 2.' });
    return undefined;
  }
  if (!Number.isInteger(maxWindows) || maxWindows < 1) {
    store().pushMessage({ panel, level: 'error', code: 'BAD_ARGUMENT', text: 'Max windows must be a whole number of at least 1.' });
    return undefined;
  }
  return { seqlen, maxWindows };
}

async function measure(model: ModelSummary, text: string, label: string, language: string | undefined, opts: OpOptions): Promise<PerplexityResult> {
  const { seqlen, maxWindows } = store();
  const result = await getEngine().perplexity(model.id, { text, seqlen, maxWindows, language }, opts);
  store().addPplResult({ modelId: model.id, label, result });
  return result;
}

/** Perplexity of the active model on the selected text. */
export async function runPerplexity(): Promise<void> {
  const model = activeModel('perplexity');
  if (!model || !checkedSizes('perplexity')) return;
  const src = store().textSource;
  if (src.kind === 'custom' && !store().customText.trim()) {
    store().pushMessage({ panel: 'perplexity', level: 'error', code: 'BAD_ARGUMENT', text: 'Paste or drop some text first, or choose a bundled language.' });
    return;
  }
  const label = src.kind === 'bundled' ? src.language : store().customTextName;
  await runOp('perplexity', `Perplexity (${label})`, async (opts) => {
    const text = src.kind === 'bundled' ? await bundledText(evalTextUrl(src.language), `Evaluation text '${src.language}'`) : store().customText;
    return measure(model, text, label, src.kind === 'bundled' ? src.language : undefined, opts);
  });
}

/** Perplexity of the active model on the bundled evaluation text of every language, one by one. */
export async function measureAllLanguages(): Promise<void> {
  const model = activeModel('perplexity');
  const langs = store().languages;
  if (!model || !checkedSizes('perplexity')) return;
  if (langs.state !== 'ready') {
    store().pushMessage({ panel: 'perplexity', level: 'error', code: 'FILE_NOT_FOUND', text: 'No bundled languages in this build.' });
    return;
  }
  await runOp('perplexity', `Perplexity, all ${langs.languages.length} languages`, async (opts, signal) => {
    for (const [i, lang] of langs.languages.entries()) {
      throwIfCancelled(signal);
      const which = `${lang} (${i + 1}/${langs.languages.length})`;
      store().setOpProgress(opts.opId, { kind: 'eval', message: `language ${which}`, done: i, total: langs.languages.length });
      const text = await bundledText(evalTextUrl(lang), `Evaluation text '${lang}'`);
      await measure(model, text, lang, lang, {
        ...opts,
        onProgress: (p) => opts.onProgress?.('message' in p ? { ...p, message: `${which}: ${p.message}` } : p),
      });
    }
  });
}

// ------------------------------------------------------------------ prune

/** The engine request for the prune form's settings and calibration text (null text: magnitude). */
export function pruneRequest(method: PruneMethod, pattern: SparsityPattern, calib: { language: string; text: string; nsamples: number; seqlen: number } | null): PruneRequest {
  return {
    method,
    ...(pattern.kind === 'nm' ? { nm: { n: pattern.n, m: pattern.m } } : { sparsity: pattern.sparsity }),
    calibration: calib ? { texts: [{ name: `calib/${calib.language}.txt`, text: calib.text, language: calib.language }], nsamples: calib.nsamples, seqlen: calib.seqlen } : undefined,
  };
}

/** Prune a copy of the active model with the form's settings; the copy becomes the active model. */
export async function runPrune(): Promise<void> {
  const model = activeModel('prune');
  if (!model) return;
  const { pruneMethod, prunePattern, calibLanguage, calibSamples, seqlen } = store();
  if (prunePattern.kind === 'unstructured' && !(prunePattern.sparsity > 0 && prunePattern.sparsity < 1)) {
    store().pushMessage({ panel: 'prune', level: 'error', code: 'BAD_ARGUMENT', text: 'Sparsity must be between 0 and 1 (e.g. 0.5 removes half of the weights).' });
    return;
  }
  if (pruneMethod !== 'magnitude' && !(Number.isInteger(calibSamples) && calibSamples >= 1)) {
    store().pushMessage({ panel: 'prune', level: 'error', code: 'BAD_ARGUMENT', text: 'Calibration windows must be a whole number of at least 1.' });
    return;
  }
  const result = await runOp('prune', `Pruning ${model.name} (${pruneMethod})`, async (opts) => {
    const calib =
      pruneMethod === 'magnitude'
        ? null
        : { language: calibLanguage, text: await bundledText(calibTextUrl(calibLanguage), `Calibration text '${calibLanguage}'`), nsamples: calibSamples, seqlen };
    return getEngine().prune(model.id, pruneRequest(pruneMethod, prunePattern, calib), opts);
  });
  if (!result) return;
  store().addModel(result.model);
  store().setPruneReport(result.model.id, result.report);
  store().pushMessage({
    panel: 'prune',
    level: 'info',
    text: `Made ${result.model.name}: ${(result.report.overall * 100).toFixed(1)} % of the prunable weights are zero. It is now the active model.`,
  });
}

/** Export the active (pruned) model and save it as <model name>.zip. */
export async function downloadModel(): Promise<void> {
  const model = activeModel('prune');
  if (!model) return;
  if (!model.prunedFrom) {
    store().pushMessage({ panel: 'prune', level: 'error', code: 'BAD_ARGUMENT', text: `${model.name} is not a pruned model; prune it first, then download the pruned copy.` });
    return;
  }
  const name = zipFileName(model.name);
  const saved = await runOp('prune', `Exporting ${model.name}`, async (opts) => {
    const files = await getEngine().exportModel(model.id, opts);
    store().setOpProgress(opts.opId, { kind: 'done', message: `Zipping ${files.length} files` });
    const { zipSync } = await import('fflate');
    // Weights are stored, not deflated: deflating hundreds of MB here would freeze the page.
    const zip = zipSync(Object.fromEntries(files.map((f) => [f.name, [f.data, { level: f.name.endsWith('.safetensors') ? 0 : 6 }] as const])));
    saveBlob(new Blob([zip as Uint8Array<ArrayBuffer>], { type: 'application/zip' }), name);
    return { files: files.map((f) => f.name), bytes: zip.byteLength };
  });
  if (saved) store().pushMessage({ panel: 'prune', level: 'info', text: `Saved ${name} (${fmtBytes(saved.bytes)}: ${saved.files.join(', ')}).` });
}

// ------------------------------------------------------------------ language matrix

/** What step `done` (0-based) of a grid is doing, in runGrid's order: dense columns, then per row prune + columns. */
export function gridStepLabel(calib: string[], evl: string[], done: number): string {
  if (done < evl.length) return `dense model: perplexity ${evl[done]}`;
  const j = done - evl.length;
  const row = Math.floor(j / (evl.length + 1));
  const k = j % (evl.length + 1);
  if (row >= calib.length) return 'finishing';
  return k === 0 ? `pruning with ${calib[row]} calibration` : `${calib[row]}-calibrated model: perplexity ${evl[k - 1]}`;
}

function wholeAtLeast(panel: Panel, x: number, min: number, what: string): boolean {
  if (Number.isInteger(x) && x >= min) return true;
  store().pushMessage({ panel, level: 'error', code: 'BAD_ARGUMENT', text: `${what} must be a whole number of at least ${min}.` });
  return false;
}

/**
 * The study's experiment on the active model: prune once per selected calibration language, measure
 * held-out perplexity in every selected evaluation language (and the dense model), keep the matrix.
 */
export async function runMatrix(): Promise<void> {
  const model = activeModel('matrix');
  if (!model) return;
  const s = store();
  const bad = (text: string): void => s.pushMessage({ panel: 'matrix', level: 'error', code: 'BAD_ARGUMENT', text });
  if (s.languages.state !== 'ready') {
    s.pushMessage({ panel: 'matrix', level: 'error', code: 'FILE_NOT_FOUND', text: 'This build has no bundled calibration and evaluation texts, so the matrix cannot run.' });
    return;
  }
  const all = s.languages.languages;
  const calib = all.filter((l) => s.matrixCalib.includes(l));
  const evl = all.filter((l) => s.matrixEval.includes(l));
  if (!calib.length) return bad('Choose at least one calibration language.');
  if (!evl.length) return bad('Choose at least one evaluation language.');
  const pattern = s.matrixPattern;
  if (pattern.kind === 'unstructured' && !(pattern.sparsity > 0 && pattern.sparsity < 1)) return bad('Sparsity must be between 0 and 1 (e.g. 0.5 removes half of the weights).');
  if (!wholeAtLeast('matrix', s.matrixSeqlen, 2, 'Sequence length')) return;
  if (s.matrixSeqlen > model.maxPositionEmbeddings) return bad(`Sequence length ${s.matrixSeqlen} is longer than the model's context (${model.maxPositionEmbeddings} tokens).`);
  if (!wholeAtLeast('matrix', s.matrixEvalWindows, 1, 'Evaluation windows')) return;
  if (s.matrixMethod !== 'magnitude' && !wholeAtLeast('matrix', s.matrixNsamples, 1, 'Calibration windows')) return;
  const spec: GridSpec = {
    method: s.matrixMethod,
    ...(pattern.kind === 'nm' ? { nm: { n: pattern.n, m: pattern.m } } : { sparsity: pattern.sparsity }),
    calibLanguages: calib,
    evalLanguages: evl,
    nsamples: s.matrixMethod === 'magnitude' ? 1 : s.matrixNsamples,
    seqlen: s.matrixSeqlen,
    evalSeqlen: s.matrixSeqlen,
    evalMaxWindows: s.matrixEvalWindows,
  };
  const total = (calib.length + 1) * evl.length + calib.length;
  const t0 = performance.now();
  const run = await runOp('matrix', `Language matrix ${calib.length} × ${evl.length} (${s.matrixMethod}) on ${model.name}`, async (opts, signal) => {
    const overall = (done: number): void => store().setOpOverall(opts.opId, { done, total, message: gridStepLabel(calib, evl, done) });
    overall(0);
    const { runGrid, ownLanguageWins } = await import('../../experiment/grid');
    const result = await runGrid(
      getEngine(),
      model.id,
      spec,
      {
        calib: (l) => bundledText(calibTextUrl(l), `Calibration text '${l}'`),
        eval: (l) => bundledText(evalTextUrl(l), `Evaluation text '${l}'`),
      },
      {
        opId: opts.opId,
        signal,
        onProgress: (e) => {
          // The grid's own steps carry its total; everything else comes from the engine call inside.
          if (e.kind === 'eval' && e.total === total) {
            store().setOpProgress(opts.opId, null);
            overall(e.done);
          } else opts.onProgress?.(e);
        },
      },
    );
    return { result, wins: ownLanguageWins(result) };
  });
  if (run) store().setMatrixRun({ modelId: model.id, modelName: model.name, result: run.result, wins: run.wins, elapsedMs: performance.now() - t0 });
}

// ------------------------------------------------------------------ tasks

interface UdhrIndexEntry {
  language: string;
  name?: string;
  file: string;
  items?: number;
}

export async function loadUdhrIndex(): Promise<void> {
  store().setUdhr({ state: 'loading' });
  try {
    const text = await fetchBundled(udhrIndexUrl(), `The UDHR task index ${UDHR_DIR}index.json`);
    let entries: UdhrIndexEntry[];
    try {
      const json = JSON.parse(text) as { languages?: unknown };
      if (!Array.isArray(json.languages)) throw new Error('no languages');
      entries = (json.languages as UdhrIndexEntry[]).filter((e) => typeof e?.language === 'string' && typeof e.file === 'string');
    } catch {
      throw new PolyPruneError('FILE_NOT_FOUND', `${UDHR_DIR}index.json is not a valid UDHR index.`);
    }
    if (!entries.length) throw new PolyPruneError('FILE_NOT_FOUND', `${UDHR_DIR}index.json lists no languages.`);
    const languages = entries.map((e) => ({ language: e.language, name: e.name ?? e.language, file: e.file, items: e.items ?? 0 })).sort((a, b) => a.language.localeCompare(b.language));
    store().setUdhr({ state: 'ready', languages });
    if (!store().udhrSelected.length) {
      const model = store().languages;
      const mine = model.state === 'ready' ? languages.filter((l) => model.languages.includes(l.language)).map((l) => l.language) : [];
      store().setUdhrSelected(mine.length ? mine : languages.some((l) => l.language === 'en') ? ['en'] : [languages[0].language]);
    }
  } catch (e) {
    store().setUdhr({ state: 'missing', message: `${errorText(e)} Score a task file of your own instead.` });
  }
}

/** Languages a task's prompt template exists for (xcopa, xnli, pawsx); undefined when any label will do. */
export function taskLanguages(task: TaskName): readonly string[] | undefined {
  return TASKS[task].languages;
}

function record(r: TaskResult): TaskRecord {
  const { perItem: _perItem, ...rest } = r;
  return rest;
}

/**
 * Score the bundled UDHR task (selected languages) or the chosen task file, on the active model or on
 * every loaded model. Each (model, task, language) becomes one row of the results table.
 */
export async function runTasks(): Promise<void> {
  const s = store();
  const bad = (code: string, text: string): void => s.pushMessage({ panel: 'tasks', level: 'error', code, text });
  const models = s.taskModels === 'all' ? s.models : s.models.filter((m) => m.id === s.activeModelId);
  if (!models.length) return bad('BAD_ARGUMENT', 'Load a model first.');
  const limit = Number.isNaN(s.taskLimit) ? undefined : s.taskLimit;
  if (limit !== undefined && !wholeAtLeast('tasks', limit, 1, 'Max items')) return;

  type Job = { language: string; source: string; task: TaskName; text: () => Promise<string> };
  let jobs: Job[];
  if (s.taskSource === 'udhr') {
    if (s.udhr.state !== 'ready') return bad('FILE_NOT_FOUND', 'The bundled UDHR task is not in this build; score a task file instead.');
    const chosen = s.udhr.languages.filter((l) => s.udhrSelected.includes(l.language));
    if (!chosen.length) return bad('BAD_ARGUMENT', 'Choose at least one UDHR language.');
    jobs = chosen.map((l) => ({ language: l.language, source: 'UDHR (bundled)', task: 'udhr', text: () => bundledText(udhrFileUrl(l.file), `UDHR task '${l.language}'`) }));
  } else {
    const file = s.taskFile;
    if (!file) return bad('BAD_ARGUMENT', 'Choose or drop a task file first.');
    const task = s.taskFormat;
    const language = s.taskLanguage.trim();
    const supported = taskLanguages(task);
    if (supported && !supported.includes(language)) return bad('BAD_ARGUMENT', `${task} needs the file's language. Supported: ${supported.join(', ')}.`);
    jobs = [{ language, source: file.name, task, text: async () => file.text }];
  }

  const total = jobs.length * models.length;
  const what = s.taskSource === 'udhr' ? `UDHR, ${jobs.length} language${jobs.length === 1 ? '' : 's'}` : `${jobs[0].task} (${jobs[0].source})`;
  await runOp('tasks', `Tasks: ${what} on ${models.length === 1 ? models[0].name : `${models.length} models`}`, async (opts, signal) => {
    let done = 0;
    for (const job of jobs) {
      const text = await job.text();
      for (const m of models) {
        throwIfCancelled(signal);
        store().setOpOverall(opts.opId, { done, total, message: `${job.task}${job.language ? ` ${job.language}` : ''} on ${m.name}` });
        store().setOpProgress(opts.opId, null);
        const result = await getEngine().evalTask(m.id, { task: job.task, text, language: job.language || undefined, limit }, opts);
        store().addTaskRow({ modelId: m.id, modelName: m.name, source: job.source, result: record(result) });
        done++;
      }
    }
  });
}

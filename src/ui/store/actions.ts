/**
 * Module-level actions: the only place where the UI calls the engine. Each action runs one engine
 * operation, feeds its progress into the store and turns its errors into messages.
 */
import { PolyPruneError } from '../../common/errors';
import type { Engine, ModelSpec, ModelSummary, OpOptions, PerplexityResult, PruneRequest } from '../../engine/api';
import { calibTextUrl, defaultModelUrl, DEFAULT_MODEL_DIR, DEFAULT_MODEL_NAME, evalTextUrl, splitJsonUrl } from '../paths';
import { useAppStore } from './index';
import type { Panel } from './messagesSlice';
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

/**
 * Run one engine operation: registers it as the running op (for progress and Cancel), reports its
 * error in `panel`. Returns undefined when it failed or another op is running.
 */
async function runOp<T>(panel: 'model' | 'perplexity' | 'prune', label: string, fn: (opts: OpOptions) => Promise<T>): Promise<T | undefined> {
  const s = store();
  if (s.running) {
    s.pushMessage({ panel, level: 'info', text: `Wait for "${s.running.label}" to finish, or cancel it.` });
    return undefined;
  }
  const opId = `op${++opCounter}`;
  s.clearMessages(panel);
  s.startOp({ opId, label, panel });
  try {
    return await fn({ opId, onProgress: (p) => store().setOpProgress(opId, p) });
  } catch (e) {
    reportError(panel, e);
    return undefined;
  } finally {
    store().endOp(opId);
  }
}

export async function cancelRunning(): Promise<void> {
  const op = store().running;
  if (!op) return;
  store().setCancelling(op.opId);
  try {
    await getEngine().cancel(op.opId);
  } catch (e) {
    reportError(op.panel, e);
  }
}

// ------------------------------------------------------------------ start-up

export async function initApp(): Promise<void> {
  await Promise.all([detectGpu(), loadLanguageList()]);
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
    let url: string;
    try {
      url = new URL(raw, document.baseURI).href;
    } catch {
      store().pushMessage({ panel: 'model', level: 'error', code: 'BAD_ARGUMENT', text: `'${raw}' is not a valid URL.` });
      return undefined;
    }
    spec = { kind: 'url', url };
    label = `Loading ${url}`;
  } else {
    spec = { kind: 'files', files: source.files, name: source.name };
    label = `Loading ${source.name}`;
  }
  const summary = await runOp('model', label, async (opts) => {
    if (source.kind === 'bundled') await fetchBundled(`${defaultModelUrl()}config.json`, `The bundled model (${DEFAULT_MODEL_DIR}config.json)`);
    return getEngine().loadModel(spec, opts);
  });
  if (summary) store().addModel(summary);
  return summary;
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
  await runOp('perplexity', `Perplexity, all ${langs.languages.length} languages`, async (opts) => {
    for (const [i, lang] of langs.languages.entries()) {
      if (store().running?.cancelling) throw new PolyPruneError('CANCELLED', 'Cancelled.');
      const which = `${lang} (${i + 1}/${langs.languages.length})`;
      store().setOpProgress(opts.opId!, { kind: 'eval', message: `language ${which}`, done: i, total: langs.languages.length });
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
  store().pushMessage({
    panel: 'prune',
    level: 'info',
    text: `Made ${result.model.name}: ${(result.report.overall * 100).toFixed(1)} % of the prunable weights are zero. It is now the active model.`,
  });
}

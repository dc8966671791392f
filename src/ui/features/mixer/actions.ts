/**
 * The Calibration mixer (docs/mixer.md): collect per-source statistics once (engine.collectStats),
 * then every slider move re-masks from the mixed statistics (engine.mixPrune, no forward pass) and
 * re-measures perplexity on the evaluation languages; Confirm runs the exact sequential prune.
 */
import { LINEAR_MATRICES, METHODS, methodSpec, sharesMixStatistics, validateGptqOptions, type MixMethod, type MixRequest, type ModelSummary, type StatsSummary } from '../../../engine';
import type { ProgressEvent } from '../../../common/progress';
import { pruneResultRecord } from '../../../experiment/records';
import { deleteMixStats, listMixStats, loadMixStats, saveMixStats } from './mixStatsCache';
import { calibTextUrl, evalTextUrl } from '../../paths';
import type { SparsityPattern } from '../../features/prune/pruneSlice';
import type { CalibSource } from '../experiment/experimentSlice';
import { activeModel, bundledText, errorCode, errorText, getEngine, reportError, runOp, store, wholeAtLeast } from '../../store/actions/core';
import { patternProblem } from '../experiment/actions';
import { patternFields } from '../prune/settings';
import { keepRecord, runHeader } from '../history/records';

const DEBOUNCE_MS = 120;

/** The registry's check of GPTQ's bits and group size, as a one-line message (null when they are fine). */
function quantizerProblem(q: { bits: number; groupSize: number }): string | null {
  try {
    validateGptqOptions(q);
    return null;
  } catch (e) {
    return errorText(e);
  }
}

/** Move source i's weight to v (0..1); the others share the rest in their current proportions. */
export function rebalance(weights: readonly number[], i: number, v: number): number[] {
  const x = Math.min(1, Math.max(0, Number.isFinite(v) ? v : 0));
  const rest = weights.reduce((a, w, k) => a + (k === i ? 0 : w), 0);
  const n = weights.length;
  return weights.map((w, k) => (k === i ? x : n === 1 ? 1 : rest > 0 ? (w / rest) * (1 - x) : (1 - x) / (n - 1)));
}

/** The quantizer of a quantizing mixer method (GPTQ), from the panel's bits and group size; undefined for a pruning method. */
function mixQuantize(method: MixMethod): { bits: number; groupSize: number } | undefined {
  const { mixBits, mixGroupSize } = store();
  return methodSpec(method).quantizes ? { bits: mixBits, groupSize: mixGroupSize } : undefined;
}

/** The request of the panel's method: a pruning method's pattern (Prune panel), or GPTQ's bits and group size. */
function mixRequest(weights: number[], pattern: SparsityPattern): MixRequest {
  const method = store().mixMethod;
  const quantize = mixQuantize(method);
  return { weights, method, ...(quantize ? { quantize } : patternFields(pattern)) };
}

/**
 * The method menu moved: with statistics that serve the new method (SparseGPT's Hessians serve GPTQ
 * and back) the mix is derived again at once, without a calibration pass; otherwise the next
 * collection uses it.
 */
export function chooseMixMethod(m: MixMethod): void {
  store().setMixMethod(m);
  const { mixStats } = store();
  if (mixStats && sharesMixStatistics(mixStats.method, m)) {
    store().setMixState({ mixConfirm: null });
    void updateMix();
  }
}

/** Bits or group size moved (GPTQ): derive the mix again. */
export function setMixQuantizer(q: { bits?: number; groupSize?: number }): void {
  store().setMixQuantizer(q);
  const { mixStats, mixMethod } = store();
  if (mixStats && methodSpec(mixMethod).quantizes && sharesMixStatistics(mixStats.method, mixMethod)) void updateMix();
}

/**
 * The dense model the mixer works from when `id` is active: the model itself when it is not pruned,
 * else the loaded model it was pruned from (following `prunedFrom`, e.g. a mixer model kept as the
 * active one, or a prune of it). Undefined when there is no active model or it is pruned and its
 * dense base is not loaded (a PolyPrune export loaded from files, or the dense model unloaded).
 */
export function denseBaseOf(models: readonly ModelSummary[], id: string | null): ModelSummary | undefined {
  let m = models.find((x) => x.id === id);
  for (let hops = 0; m?.prunedFrom !== undefined && hops < models.length; hops++) {
    const from: string = m.prunedFrom;
    m = models.find((x) => x.id === from);
  }
  return m && !m.pruning && m.prunedFrom === undefined ? m : undefined;
}

/** The dense base of the active model (denseBaseOf), or undefined after a message that says what to load. */
function denseBase(): ModelSummary | undefined {
  const model = activeModel('mixer');
  if (!model) return undefined;
  const base = denseBaseOf(store().models, model.id);
  if (!base) {
    const what = model.pruning ? ` (${model.pruning.method}, ${(100 * model.pruning.overallSparsity).toFixed(1)} % zeros)` : '';
    store().pushMessage({
      panel: 'mixer',
      level: 'error',
      code: 'BAD_ARGUMENT',
      text: `The active model ${model.name} is pruned${what} and the dense model it comes from is not loaded: the mixer collects its statistics on the dense model. Load the dense model in the Model panel.`,
    });
  }
  return base;
}

/** Perplexity per evaluation language with the mixer's own windows; `report` hears each language's windows as they are scored ("what: de 3/8 windows"). */
async function perplexities(modelId: string, langs: readonly string[], what: string, report?: (e: ProgressEvent) => void): Promise<Record<string, number>> {
  const { mixSeqlen: seqlen, mixEvalWindows: maxWindows } = store();
  const out: Record<string, number> = {};
  for (const lang of langs) {
    const text = await bundledText(evalTextUrl(lang), `Evaluation text '${lang}'`);
    const onProgress = report && ((e: ProgressEvent) => e.kind === 'eval' && report({ kind: 'eval', message: `${what}: perplexity ${lang}, windows`, done: e.done, total: e.total }));
    out[lang] = (await getEngine().perplexity(modelId, { text, textName: `eval/${lang}.txt`, seqlen, maxWindows, language: lang }, onProgress ? { onProgress } : undefined)).ppl;
  }
  return out;
}

/** The Experiment panel's sources the mixer takes besides the bundled languages: the user's files (with text). */
export function mixableSources(sources: readonly CalibSource[] = store().sources): CalibSource[] {
  return sources.filter((x) => x.origin === 'file' && x.text.length > 0);
}

/** Collect the statistics of the chosen sources (one calibration pass) and show the first mix. */
export async function collectMixStats(): Promise<void> {
  const model = denseBase();
  if (!model) return;
  const { mixSources, mixSamples, mixMethod, mixSeqlen: seqlen, mixEvalWindows, mixStats, mixUpdate } = store();
  if (!wholeAtLeast('mixer', mixSamples, 1, 'Windows per source')) return;
  if (!wholeAtLeast('mixer', seqlen, 2, 'Tokens per window')) return;
  if (!wholeAtLeast('mixer', mixEvalWindows, 1, 'Evaluation windows')) return;
  const own = mixableSources().filter((x) => store().mixOwnSources.includes(x.id));
  if (mixSources.length + own.length < 1) {
    store().pushMessage({ panel: 'mixer', level: 'error', code: 'BAD_ARGUMENT', text: 'Choose at least one calibration source to mix: a bundled language, or one of your own sources.' });
    return;
  }
  const names = [...mixSources, ...own.map((x) => x.name)];
  const dup = names.find((n, i) => names.indexOf(n) !== i);
  if (dup !== undefined) {
    store().pushMessage({ panel: 'mixer', level: 'error', code: 'BAD_ARGUMENT', text: `Two calibration sources are named '${dup}'; leave one of them out.` });
    return;
  }
  const ok = await runOp('mixer', `Collecting ${METHODS[mixMethod].statistic === 'hessian' ? 'Hessians' : 'calibration statistics'} (${names.join(', ')})`, async (opts) => {
    // the previous statistics and their mixer model are replaced
    if (mixStats) await getEngine().releaseStats(mixStats.id);
    if (mixUpdate && (await getEngine().listModels()).some((m) => m.id === mixUpdate.modelId)) await getEngine().unloadModel(mixUpdate.modelId);
    store().setMixState({ mixStats: null, mixUpdate: null, mixConfirm: null });
    const sources = [];
    for (const lang of mixSources) sources.push({ name: lang, language: lang, text: await bundledText(calibTextUrl(lang), `Calibration text '${lang}'`) });
    for (const x of own) sources.push({ name: x.name, ...(x.language ? { language: x.language } : {}), text: x.text });
    const s = await getEngine().collectStats(model.id, { method: mixMethod, sources, nsamples: mixSamples, seqlen }, opts);
    opts.onProgress?.({ kind: 'calibrate', message: "Keeping the statistics in the browser's storage", done: 0, total: 1 });
    await keepStats(s);
    await showStats(s, 'collected', opts.onProgress);
    return true;
  });
  if (ok) await updateMix();
}

/** The statistics' summary in the store, the dense perplexities, equal weights. */
async function showStats(s: StatsSummary, origin: 'collected' | 'stored', report?: (e: ProgressEvent) => void): Promise<void> {
  const dense = await perplexities(s.modelId, store().mixEvalLangs, 'Dense model', report);
  store().setMixState({ mixStats: { id: s.id, modelId: s.modelId, method: s.method, sources: s.sources.map((x) => ({ name: x.name, windows: x.windows, language: x.language, bytes: x.bytes, sha256: x.sha256 })), seqlen: s.seqlen, seed: s.seed, collectMs: s.collectMs, gpuBytes: s.gpuBytes }, mixDense: dense, mixStatsOrigin: origin });
  store().setMixWeights(s.sources.map(() => 1 / s.sources.length));
  // keep the panel's method when these statistics serve it (stored SparseGPT Hessians serve GPTQ)
  if (!sharesMixStatistics(s.method, store().mixMethod)) store().setMixMethod(s.method);
}

/** Keep freshly collected statistics in the browser's storage; a full quota is a message, the statistics stay usable. */
async function keepStats(s: StatsSummary): Promise<void> {
  try {
    const data = await getEngine().readStats(s.id);
    await saveMixStats(data);
  } catch (e) {
    store().pushMessage({ panel: 'mixer', level: 'error', code: errorCode(e), text: errorText(e) });
  }
  await refreshStoredMixStats();
}

/** The stored statistics of the active model (the mixer offers them for reuse). */
export async function refreshStoredMixStats(): Promise<void> {
  const s = store();
  const model = denseBaseOf(s.models, s.activeModelId);
  if (!model) {
    store().setMixState({ mixStored: [] });
    return;
  }
  try {
    store().setMixState({ mixStored: await listMixStats(model.sha256) });
  } catch {
    // no IndexedDB (private window): nothing to offer; saving says why
    store().setMixState({ mixStored: [] });
  }
}

/** Reuse statistics stored on an earlier visit: no calibration pass, the same masks as when they were collected. */
export async function reuseMixStats(key: string): Promise<void> {
  const model = denseBase();
  if (!model) return;
  const { mixStats, mixUpdate } = store();
  const ok = await runOp('mixer', 'Loading stored calibration statistics', async (opts) => {
    if (mixStats) await getEngine().releaseStats(mixStats.id);
    if (mixUpdate && (await getEngine().listModels()).some((m) => m.id === mixUpdate.modelId)) await getEngine().unloadModel(mixUpdate.modelId);
    store().setMixState({ mixStats: null, mixUpdate: null, mixConfirm: null, mixStatsOrigin: null });
    const data = await loadMixStats(key);
    const s = await getEngine().loadStats(model.id, data, opts);
    await showStats(s, 'stored', opts.onProgress);
    return true;
  });
  if (ok) await updateMix();
}

/** Remove stored statistics from the browser's storage. */
export async function forgetMixStats(key: string): Promise<void> {
  try {
    await deleteMixStats(key);
  } catch (e) {
    reportError('mixer', e);
  }
  await refreshStoredMixStats();
}

let timer: ReturnType<typeof setTimeout> | null = null;
let inFlight: Promise<void> | null = null;
let again = false;

/** A slider or number moved: new weights now, the masks and perplexity after a short pause. */
export function setMixWeight(i: number, v: number): void {
  store().setMixWeights(rebalance(store().mixWeights, i, v));
  if (timer) clearTimeout(timer);
  timer = setTimeout(() => {
    timer = null;
    void updateMix();
  }, DEBOUNCE_MS);
}

/** Re-mask from the current weights and re-measure perplexity (one at a time; the latest weights win). */
export async function updateMix(): Promise<void> {
  if (inFlight) {
    again = true;
    return inFlight;
  }
  inFlight = (async () => {
    do {
      again = false;
      await updateOnce();
    } while (again);
  })().finally(() => (inFlight = null));
  return inFlight;
}

async function updateOnce(): Promise<void> {
  const { mixStats, mixWeights, prunePattern, mixEvalLangs, mixMethod } = store();
  if (!mixStats) return;
  const quantize = mixQuantize(mixMethod);
  const problem = quantize ? quantizerProblem(quantize) : patternProblem(prunePattern);
  if (problem) {
    store().pushMessage({ panel: 'mixer', level: 'error', code: 'BAD_ARGUMENT', text: problem });
    return;
  }
  if (store().running) {
    store().pushMessage({ panel: 'mixer', level: 'info', text: `Wait for "${store().running!.label}" to finish; the mix is updated after it.` });
    return;
  }
  store().setMixState({ mixBusy: true, mixBusyText: quantize ? 'GPTQ from the mixed Hessians' : 'masks from the mixed statistics' });
  const t0 = performance.now();
  try {
    const r = await getEngine().mixPrune(mixStats.id, mixRequest(mixWeights, prunePattern));
    const ppl = await perplexities(r.model.id, mixEvalLangs, 'Mix', (e) => e.kind === 'eval' && store().setMixState({ mixBusyText: `${e.message.replace(/^Mix: /, '')} ${e.done}/${e.total}` }));
    store().setMixState({ mixUpdate: { modelId: r.model.id, method: r.method, ...(quantize ? { quantize } : {}), weights: r.weights, pattern: prunePattern, overall: r.overall, maskMs: r.updateMs, totalMs: performance.now() - t0, ppl, sparsity: r.sparsity, windows: r.mix.windows, phases: r.phases } });
  } catch (e) {
    reportError('mixer', e);
  } finally {
    store().setMixState({ mixBusy: false, mixBusyText: null });
  }
}

/** The exact sequential prune of the current mix: per-layer IoU against the instant masks, perplexity of both. */
export async function confirmCurrentMix(): Promise<void> {
  const { mixStats, mixWeights, prunePattern, mixEvalLangs } = store();
  if (!mixStats) {
    store().pushMessage({ panel: 'mixer', level: 'error', code: 'BAD_ARGUMENT', text: 'Collect the statistics first.' });
    return;
  }
  if (inFlight) await inFlight;
  const quantize = mixQuantize(store().mixMethod);
  const problem = quantize ? quantizerProblem(quantize) : null;
  if (problem) {
    store().pushMessage({ panel: 'mixer', level: 'error', code: 'BAD_ARGUMENT', text: problem });
    return;
  }
  await runOp('mixer', `Confirm: exact sequential ${quantize ? 'quantize' : 'prune'} of this mix`, async (opts) => {
    const c = await getEngine().confirmMix(mixStats.id, mixRequest(mixWeights, prunePattern), opts);
    try {
      const instantPpl = await perplexities(c.instant.model.id, mixEvalLangs, 'Instant mix', opts.onProgress);
      const exactPpl = await perplexities(c.exact.model.id, mixEvalLangs, quantize ? 'Exact quantize' : 'Exact prune', opts.onProgress);
      store().setMixState({ mixConfirm: { weights: c.instant.weights, windows: c.windows, agreement: c.agreement, layerIou: c.layerIou, iou: c.overlap.iou, matrices: c.overlap.matrices, instantPpl, exactPpl } });
    } finally {
      // the exact model was made for the comparison only
      await getEngine().unloadModel(c.exact.model.id);
    }
  });
}

/**
 * Make the current instant mix the active model (Export panel, Perplexity, Tasks use it) and keep its
 * prune record, with the `mix` field, in History. The engine stops re-masking it; the next slider
 * move makes a new mixer model.
 */
export async function keepCurrentMix(): Promise<void> {
  if (inFlight) await inFlight;
  const { mixStats, mixUpdate, models } = store();
  if (!mixStats || !mixUpdate) {
    store().pushMessage({ panel: 'mixer', level: 'error', code: 'BAD_ARGUMENT', text: 'There is no mix yet: collect the statistics and set the weights first.' });
    return;
  }
  const base = models.find((m) => m.id === mixStats.modelId);
  let kept;
  try {
    kept = await getEngine().keepMix(mixStats.id);
  } catch (e) {
    reportError('mixer', e);
    return;
  }
  store().addModel(kept);
  store().setMixState({ mixUpdate: null });
  const pattern = mixUpdate.pattern;
  store().pushMessage({ panel: 'mixer', level: 'info', text: `Made ${kept.name} (${mixStats.sources.map((x, i) => `${x.name} ${(mixUpdate.weights[i] * 100).toFixed(0)} %`).join(', ')}) the active model: export it in the Export panel. Moving a slider now makes a new mixer model.` });
  if (!base) return;
  await keepRecord(async () =>
    pruneResultRecord(
      await runHeader(base),
      { method: mixUpdate.method ?? mixStats.method, ...(mixUpdate.quantize ? { quantize: mixUpdate.quantize } : patternFields(pattern)), calibration: { nsamples: mixUpdate.windows.reduce((a, b) => a + b, 0), seqlen: mixStats.seqlen, ...(mixStats.seed !== null ? { seed: mixStats.seed } : {}) } },
      mixStats.sources.map((x, k) => ({ name: x.name, language: x.language, bytes: x.bytes, sha256: x.sha256, ...(mixUpdate.weights[k] > 0 ? { weight: mixUpdate.weights[k] } : {}) })),
      { overall: mixUpdate.overall, perMatrix: mixUpdate.sparsity.flatMap((row, i) => row.map((v, j) => ({ layer: i, name: LINEAR_MATRICES[j], sparsity: v }))) },
      LINEAR_MATRICES,
      { mode: 'instant', weights: mixUpdate.weights, windows: mixUpdate.windows, updateMs: mixUpdate.maskMs },
    ),
  );
}

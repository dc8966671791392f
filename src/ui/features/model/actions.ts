/** Loading and unloading models. */
import { PolyPruneError } from '../../../common/errors';
import { prunedBytesText, type ModelSpec, type ModelSummary, type RunPlan } from '../../../engine';
import { fmtBytes } from '../../format';
import { isHubId, needsCalibration } from '../../../engine';
import { defaultModelUrl, DEFAULT_MODEL_DIR, DEFAULT_MODEL_NAME, hubEndpoint, stallTimeoutMs } from '../../paths';
import { hubToken } from './hubToken';
import { fetchBundled, getEngine, reportError, runOp, store } from '../../store/actions/core';

/** Called after every model that loads (sources.ts recounts tokens); registered, so this file imports no feature. */
const afterLoad: (() => void)[] = [];
export function onModelLoaded(fn: () => void): void {
  afterLoad.push(fn);
}

export type ModelSource = { kind: 'bundled' } | { kind: 'url'; url: string } | { kind: 'files'; files: File[]; name: string };

export async function loadModel(source: ModelSource): Promise<ModelSummary | undefined> {
  let spec: ModelSpec;
  let label: string;
  if (source.kind === 'bundled') {
    spec = { kind: 'url', url: defaultModelUrl(), name: DEFAULT_MODEL_NAME, stallTimeoutMs: stallTimeoutMs() };
    label = `Loading ${DEFAULT_MODEL_NAME}`;
  } else if (source.kind === 'url') {
    const raw = source.url.trim();
    if (!raw) {
      store().pushMessage({ panel: 'model', level: 'error', code: 'BAD_ARGUMENT', text: 'Enter the URL of a model folder (the folder that holds config.json).' });
      return undefined;
    }
    if (isHubId(raw) && !raw.startsWith('.') && !raw.startsWith('/')) {
      // The access token (if any) travels only inside this spec; summaries and records name the repository.
      spec = { kind: 'hub', id: raw, token: hubToken() || undefined, endpoint: hubEndpoint(), stallTimeoutMs: stallTimeoutMs() };
      label = `Loading ${raw} from the Hugging Face Hub`;
    } else {
      let url: string;
      try {
        url = new URL(raw, document.baseURI).href;
      } catch {
        store().pushMessage({ panel: 'model', level: 'error', code: 'BAD_ARGUMENT', text: `'${raw}' is not a valid URL.` });
        return undefined;
      }
      spec = { kind: 'url', url, stallTimeoutMs: stallTimeoutMs() };
      label = `Loading ${url}`;
    }
  } else {
    spec = { kind: 'files', files: source.files, name: source.name };
    label = `Loading ${source.name}`;
  }
  const summary = await runOp('model', label, async (opts) => {
    if (source.kind === 'bundled') await fetchBundled(`${defaultModelUrl()}config.json`, `The bundled model (${DEFAULT_MODEL_DIR}config.json)`);
    // What loading (and pruning with the Prune panel's settings) will cost against this adapter, from
    // config.json and the headers only: said before anything is downloaded, and refused when it cannot work.
    const plan = await getEngine().plan(spec, { method: 'evaluate' });
    if (plan.problems.length) throw new PolyPruneError('GPU_LIMITS', `This model cannot run on this GPU: ${plan.problems.join(' ')}`);
    const { pruneMethod, calibSamples, seqlen } = store();
    const prunePlan = await getEngine().plan(spec, { method: pruneMethod, nsamples: calibSamples, seqlen });
    store().pushMessage({ panel: 'model', level: 'info', text: loadCostText(plan, prunePlan, !needsCalibration(pruneMethod) ? pruneMethod : `${pruneMethod}, ${calibSamples} x ${seqlen} calibration tokens`) });
    return getEngine().loadModel(spec, opts);
  });
  if (summary) {
    store().addModel(summary);
    if (summary.cacheNote) store().pushMessage({ panel: 'model', level: 'info', text: summary.cacheNote });
    for (const fn of afterLoad) fn();
  }
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
    store().clearPruneReport(id);
  } catch (e) {
    reportError('model', e);
  }
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
    store().pushMessage({ panel: 'model', level: 'info', text: 'Cached downloads cleared: the next load downloads them again.' });
  } catch (e) {
    reportError('model', e);
  }
}

/** One paragraph: what a load costs (download, GPU memory with the weights packed or not, host memory) and what pruning it would need. */
export function loadCostText(load: RunPlan, prune: RunPlan, pruneWhat: string): string {
  const weights = load.packed ? `weights ${fmtBytes(load.weightBytes)}, 16-bit kept packed (${fmtBytes(load.f32WeightBytes)} as f32)` : `weights ${fmtBytes(load.weightBytes)} as f32`;
  const parts = [
    `This load: ${load.downloadBytes ? `downloads ${fmtBytes(load.downloadBytes)}${load.cachedBytes ? ` (${fmtBytes(load.cachedBytes)} more come from this browser's cache)` : ''}` : load.cachedBytes ? `reads ${fmtBytes(load.cachedBytes)} from this browser's cache (no download)` : 'reads local files (no download)'}`,
    `GPU about ${fmtBytes(load.gpuPeakBytes)} (${weights}; largest buffer ${fmtBytes(load.biggestBinding.bytes)}, this GPU allows ${fmtBytes(load.limits.maxBindingBytes)})`,
    `host memory about ${fmtBytes(load.loadHostBytes)} beyond the page (tensors go one at a time, in slices; the tokenizer about ${fmtBytes(load.loadTokenizerBytes)})`,
  ];
  const pr = prune.problems.length ? `Pruning it (${pruneWhat}) cannot run here: ${prune.problems.join(' ')}` : `Pruning it (${pruneWhat}) needs about ${fmtBytes(prune.gpuPeakBytes)} of GPU memory${prunedBytesText(prune)}.`;
  return `${parts.join('; ')}. ${[...load.notes, pr].join(' ')}`;
}

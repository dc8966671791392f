/** Start-up: WebGPU detection, the bundled language list, and the bundled model loading by itself. */
import { PolyPruneError } from '../../../common/errors';
import { DEFAULT_MODEL_DIR, splitJsonUrl } from '../../paths';
import { errorCode, errorText, fetchBundled, getEngine, store } from './core';
import { loadModel } from '../../features/model/actions';
import { addBundledSource } from '../../features/sources/actions';
import { keepStudy, restoreStudy } from '../../features/sources/studyStore';
import { loadTaskIndex, loadUdhrIndex } from '../../features/tasks/actions';

/** Whether the page should load the bundled model on open (`?autoload=0` turns it off). */
export function autoLoadWanted(search: string): boolean {
  const v = new URLSearchParams(search).get('autoload');
  return v === null || !['0', 'false', 'no', 'off'].includes(v.toLowerCase());
}

/**
 * Open and go: WebGPU check, bundled language and task lists, and (when WebGPU works and nothing is
 * loaded yet) the bundled model, so the experiment is one click away.
 */
export async function initApp(): Promise<void> {
  await Promise.all([
    (async () => {
      await detectGpu();
      if (store().gpu.state === 'ready' && !store().models.length && !store().running && autoLoadWanted(location.search)) await loadModel({ kind: 'bundled' });
    })(),
    (async () => {
      // The last visit's study first (the defaults below only fill what is empty), then keep it.
      await restoreStudy();
      keepStudy();
      // The UDHR defaults follow the model's languages, so the list comes first.
      await loadLanguageList();
      await Promise.all([loadUdhrIndex(), loadTaskIndex()]);
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
    // Small defaults for a first live result: up to three of the study's languages as bundled
    // calibration sources and as evaluation languages.
    const sorted = [...list].sort();
    const study = ['de', 'en', 'es', 'ru', 'zh', 'ar', 'sw'];
    const first = study.filter((l) => sorted.includes(l)).slice(0, 3);
    const defaults = (first.length ? first : sorted.slice(0, 3)).sort();
    if (!store().expEvalLanguages.length) store().setExp({ expEvalLanguages: defaults });
    if (!store().sources.length) for (const l of defaults) await addBundledSource(l);
  } catch (e) {
    store().setLanguages({ state: 'missing', message: `${errorText(e)} Bundled texts are unavailable; paste or drop your own text instead.` });
  }
}

/** Start-up: WebGPU detection and the bundled language list. */
import { PolyPruneError } from '../../../common/errors';
import { DEFAULT_MODEL_DIR, splitJsonUrl } from '../../paths';
import { errorCode, errorText, fetchBundled, getEngine, store } from './core';
import { loadUdhrIndex } from './tasks';

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

/** URLs of the bundled default model and its texts, relative to the app's base URL. */
import { PolyPruneError } from '../common/errors';
import { parseSubmitBudget } from '../common/budget';

export const DEFAULT_MODEL_DIR = 'models/polyprune-ml/';
export const DEFAULT_MODEL_NAME = 'polyprune-ml';

/** Absolute URL of `rel` against the page (the worker resolves relative URLs against its own script). */
export function appUrl(rel: string): string {
  return new URL(rel, document.baseURI).href;
}

export const defaultModelUrl = (): string => appUrl(DEFAULT_MODEL_DIR);
export const evalTextUrl = (lang: string): string => appUrl(`${DEFAULT_MODEL_DIR}eval/${encodeURIComponent(lang)}.txt`);
export const calibTextUrl = (lang: string): string => appUrl(`${DEFAULT_MODEL_DIR}calib/${encodeURIComponent(lang)}.txt`);
export const splitJsonUrl = (): string => appUrl(`${DEFAULT_MODEL_DIR}split.json`);

/** The bundled UDHR evaluation data (built by tools/make-eval-data). */
export const UDHR_DIR = 'data/udhr/';
export const udhrIndexUrl = (): string => appUrl(`${UDHR_DIR}index.json`);
export const udhrFileUrl = (file: string): string => appUrl(`${UDHR_DIR}${encodeURIComponent(file)}`);

/** Bundled multiple-choice tasks beyond UDHR (index.json lists them; optional). */
export const TASKS_DIR = 'data/tasks/';
export const tasksIndexUrl = (): string => appUrl(`${TASKS_DIR}index.json`);
export const taskFileUrl = (file: string): string => appUrl(`${TASKS_DIR}${file.split('/').map(encodeURIComponent).join('/')}`);
/**
 * `?stallTimeout=<seconds>` on the page URL: how long a model download may receive nothing before it
 * fails (default: the engine's 30 s). For slow links (raise it) and tests (lower it).
 */
export function stallTimeoutMs(): number | undefined {
  const v = new URLSearchParams(document.location.search).get('stallTimeout');
  const n = v === null ? NaN : Number(v);
  return Number.isFinite(n) && n >= 0 ? n * 1000 : undefined;
}

/**
 * `?hfEndpoint=<url>` on the page URL: the Hugging Face Hub (or a mirror) that `org/name` model ids
 * are read from, as HF_ENDPOINT for the CLI (default https://huggingface.co).
 */
export function hubEndpoint(): string | undefined {
  const v = new URLSearchParams(document.location.search).get('hfEndpoint');
  if (!v) return undefined;
  try {
    const u = new URL(v);
    return u.protocol === 'https:' || u.protocol === 'http:' ? u.href.replace(/\/+$/, '') : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Engine settings from the page URL, for the engine worker: `?gpuSubmitBudget=<flops>`, the most GPU
 * work per submitted command buffer (default 1e12, a 2 TFLOP/s GPU for 0.5 s; lower it for a slow GPU
 * whose driver resets the page; docs/models.md), `?spillPrunedAbove=<bytes>`, pruned models above
 * this many bytes keep their matrices in the origin private file system (default 1 GiB; 0: always,
 * as tests do), and `?loseDeviceAfterSubmits=<n>`, fault injection for tests (the GPU device is lost
 * after n submits). A bad budget or threshold is left out (the default applies) and returned as
 * `problem`, a message for the page.
 */
export function engineSettings(): { settings: { gpuSubmitBudget?: string; loseDeviceAfterSubmits?: string; spillPrunedAbove?: string }; problem?: PolyPruneError } {
  const q = new URLSearchParams(document.location.search);
  const settings: { gpuSubmitBudget?: string; loseDeviceAfterSubmits?: string; spillPrunedAbove?: string } = {};
  let problem: PolyPruneError | undefined;
  const budget = q.get('gpuSubmitBudget');
  if (budget !== null) {
    try {
      settings.gpuSubmitBudget = String(parseSubmitBudget(budget, '?gpuSubmitBudget='));
    } catch (e) {
      problem = new PolyPruneError('BAD_ARGUMENT', `${(e as Error).message} The default budget is used.`);
    }
  }
  const spill = q.get('spillPrunedAbove');
  if (spill !== null) {
    if (spill.trim() !== '' && Number(spill) >= 0) settings.spillPrunedAbove = String(Number(spill));
    else problem = new PolyPruneError('BAD_ARGUMENT', `?spillPrunedAbove=${spill} is not a number of bytes >= 0; the default (1 GiB) is used.`);
  }
  const lose = q.get('loseDeviceAfterSubmits');
  if (lose !== null) settings.loseDeviceAfterSubmits = lose;
  return { settings, problem };
}

/**
 * `?publishedModel=<org/name>=<part>[,...]` on the page URL: more base models for "Compare with the
 * published model" (the `<model>` part of the published checkpoints' names; src/experiment/published.ts),
 * for a model the built-in table lacks or a copy of one under another id. Malformed entries are skipped.
 */
export function publishedModelsParam(): string {
  return new URLSearchParams(document.location.search).get('publishedModel') ?? '';
}

/**
 * Shared machinery of the module-level actions: the engine connection, \`runOp\` (one running
 * operation with progress, Cancel and error messages) and bundled-file fetching.
 */
import { PolyPruneError } from '../../../common/errors';
import type { Engine, ModelSummary, OpOptions } from '../../../engine';
import { useAppStore } from '../index';
import type { Panel } from '../messagesSlice';
import type { OpPanel } from '../opsSlice';

let engine: Engine | null = null;

/** Called once by main.tsx with the worker client. */
export function connectEngine(e: Engine): void {
  engine = e;
}

export function getEngine(): Engine {
  if (!engine) throw new PolyPruneError('INTERNAL', 'The engine is not started yet.');
  return engine;
}

export const store = useAppStore.getState;

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
export async function runOp<T>(panel: OpPanel, label: string, fn: (opts: OpOptions & { opId: string }, signal: AbortSignal) => Promise<T>): Promise<T | undefined> {
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

/**
 * Fetch a bundled text file. Static hosts (and `vite preview`) may answer a missing file with the
 * app's index.html, so an HTML answer counts as missing.
 */
export async function fetchBundled(url: string, what: string): Promise<string> {
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

const textCache = new Map<string, Promise<string>>();

export function bundledText(url: string, what: string): Promise<string> {
  let p = textCache.get(url);
  if (!p) {
    p = fetchBundled(url, what);
    textCache.set(url, p);
    p.catch(() => textCache.delete(url));
  }
  return p;
}

export function activeModel(panel: Panel): ModelSummary | undefined {
  const s = store();
  const m = s.models.find((x) => x.id === s.activeModelId);
  if (!m) s.pushMessage({ panel, level: 'error', code: 'BAD_ARGUMENT', text: 'Load a model first.' });
  return m;
}

export function wholeAtLeast(panel: Panel, x: number, min: number, what: string): boolean {
  if (Number.isInteger(x) && x >= min) return true;
  store().pushMessage({ panel, level: 'error', code: 'BAD_ARGUMENT', text: `${what} must be a whole number of at least ${min}.` });
  return false;
}

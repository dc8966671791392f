/**
 * The Engine API backed by a Web Worker (worker.ts). Same interface as the in-thread LocalEngine:
 * progress callbacks are proxied back to this thread, errors keep their `code`, arguments are
 * structured-cloned (ModelSpec `files` is fine; `folder` is not, it holds functions).
 */
import { proxy, wrap, type Endpoint } from 'comlink';
import { PolyPruneError } from '../common/errors';
import type { ProgressCallback } from '../common/progress';
import type { Engine } from './api';
import { installErrorTransfer, type EngineEndpoint } from './rpc';

/**
 * Every method of Engine, forwarded to the worker. `Missing` below fails to compile while a method
 * of Engine is absent here, so a method added to api.ts has to be added to this list as well.
 */
const ENGINE_METHODS = ['gpuInfo', 'plan', 'cacheInfo', 'clearCache', 'loadModel', 'listModels', 'unloadModel', 'maskOverlap', 'compareModels', 'releaseMask', 'tokenize', 'perplexity', 'prune', 'collectStats', 'mixPrune', 'confirmMix', 'releaseStats', 'keepMix', 'readStats', 'loadStats', 'counters', 'exportModel', 'exportSizes', 'exportZip', 'exportToDirectory', 'evalTask', 'generate', 'generateCalibration', 'logits', 'cancel', 'dispose'] as const;
type Missing = Exclude<keyof Engine, (typeof ENGINE_METHODS)[number]>;
const everyMethodForwarded: [Missing] extends [never] ? true : { addToEngineMethods: Missing } = true;
void everyMethodForwarded;

export interface WorkerEngine extends Engine {
  /** Stops the worker at once; pending calls fail and the engine cannot be used afterwards. */
  terminate(): void;
}

export interface WorkerEngineOptions {
  /** Errors the worker raises outside any call (it failed to start, an uncaught exception). */
  onWorkerError?: (e: PolyPruneError) => void;
  /** Engine settings for the worker (EngineOptions of the same names), e.g. from the page URL. */
  settings?: { gpuSubmitBudget?: string; loseDeviceAfterSubmits?: string; spillPrunedAbove?: string };
}

/** Start the engine in a module worker and return its client. */
export function createWorkerEngine(options: WorkerEngineOptions = {}): WorkerEngine {
  const q = new URLSearchParams(Object.entries(options.settings ?? {}).filter((e): e is [string, string] => typeof e[1] === 'string')).toString();
  const worker = new Worker(new URL('./worker.ts', import.meta.url), { type: 'module', name: `polyprune-engine${q ? `?${q}` : ''}` });
  const client = wrapEngineEndpoint(worker, () => worker.terminate());
  // Until the worker has answered once, an 'error' event means it never started (bad script, a
  // browser without module workers): then every call fails instead of waiting forever.
  worker.addEventListener('error', (ev) => {
    ev.preventDefault();
    const what = ev.message || 'the worker script could not be loaded';
    if (!client.started()) {
      client.fail(new PolyPruneError('INTERNAL', `The engine worker failed to start: ${what}. Reload the page; if it persists, use a current Chrome or Edge.`));
    }
    options.onWorkerError?.(new PolyPruneError('INTERNAL', `Engine worker error: ${what}`));
  });
  worker.addEventListener('messageerror', () => {
    options.onWorkerError?.(new PolyPruneError('INTERNAL', 'A message from the engine worker could not be read.'));
  });
  return client;
}

/** A client on any endpoint that serves {@link engineEndpoint} (a Worker; a MessagePort in tests). */
export function wrapEngineEndpoint(
  endpoint: Endpoint,
  stop: () => void = () => undefined,
): WorkerEngine & { started(): boolean; fail(e: PolyPruneError): void } {
  installErrorTransfer();
  const remote = wrap<EngineEndpoint>(endpoint);
  let answered = false;
  let fatal: PolyPruneError | null = null;
  const pending = new Set<(e: PolyPruneError) => void>();
  const fail = (e: PolyPruneError): void => {
    fatal ??= e;
    for (const reject of pending) reject(e);
    pending.clear();
  };

  const call = (method: string, args: unknown[]): Promise<unknown> => {
    if (fatal) return Promise.reject(fatal);
    let progressArg = -1;
    let onProgress: ProgressCallback | undefined;
    const sent = args.map((a, i) => {
      if (a && typeof a === 'object' && !ArrayBuffer.isView(a) && 'onProgress' in a) {
        const { onProgress: cb, ...rest } = a as { onProgress?: ProgressCallback };
        if (typeof cb === 'function') {
          progressArg = i;
          onProgress = cb;
        }
        return rest;
      }
      return a;
    });
    return new Promise((resolve, reject) => {
      pending.add(reject);
      remote
        .call(method, sent, progressArg, onProgress ? proxy(onProgress) : undefined)
        .then(resolve, reject)
        .finally(() => {
          answered = true;
          pending.delete(reject);
        });
    });
  };

  const client: Record<string, unknown> = {
    started: () => answered,
    fail,
    terminate() {
      fail(new PolyPruneError('INTERNAL', 'The engine worker was stopped.'));
      stop();
    },
  };
  for (const method of ENGINE_METHODS) client[method] = (...args: unknown[]) => call(method, args);
  return client as unknown as WorkerEngine & { started(): boolean; fail(e: PolyPruneError): void };
}

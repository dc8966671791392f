/**
 * The wire format between the worker client (client.ts) and the worker (worker.ts), on top of
 * comlink. Comlink turns only top-level arguments into proxies, so a progress callback nested in
 * `OpOptions` travels as a separate argument and the worker puts it back. Errors cross as
 * {@link SerializedError} so their `code` survives (comlink's own handler keeps name and message only).
 */
import { releaseProxy, transferHandlers, type Remote, type TransferHandler } from 'comlink';
import { PolyPruneError, deserializeError, serializeError, type SerializedError } from '../common/errors';
import type { ProgressCallback, ProgressEvent } from '../common/progress';

/** What worker.ts exposes: `call` runs `engine[method](...args)`. */
export interface EngineEndpoint {
  /**
   * `progressArg` is the index of the argument whose `onProgress` the client took out (-1: none);
   * the worker puts a forwarding `onProgress` back into that argument before the call.
   */
  call(method: string, args: unknown[], progressArg: number, onProgress?: ProgressCallback): Promise<unknown>;
}

interface WireError {
  polyprune: SerializedError;
}

let installed = false;

/**
 * Replace comlink's 'throw' handler with one that keeps the PolyPrune error code. Both sides call
 * this once before any message flows. Reuses comlink's own `canHandle` (its marker is private).
 */
export function installErrorTransfer(): void {
  if (installed) return;
  const base = transferHandlers.get('throw');
  if (!base) throw new Error("comlink has no 'throw' transfer handler to replace");
  const handler: TransferHandler<{ value: unknown }, WireError> = {
    canHandle: (v): v is { value: unknown } => base.canHandle(v),
    serialize: ({ value }) => [{ polyprune: serializeError(value) }, []],
    deserialize: (s) => {
      throw s?.polyprune ? deserializeError(s.polyprune) : new PolyPruneError('INTERNAL', `Unreadable error from the engine worker: ${JSON.stringify(s)}`);
    },
  };
  transferHandlers.set('throw', handler as TransferHandler<unknown, unknown>);
  installed = true;
}

/** Serve `engine` (an object with async methods, e.g. LocalEngine) as an {@link EngineEndpoint}. */
export function engineEndpoint(engine: object): EngineEndpoint {
  return {
    async call(method, args, progressArg, onProgress) {
      const fn: unknown = (engine as Record<string, unknown>)[method];
      if (typeof fn !== 'function' || method === 'constructor') {
        throw new PolyPruneError('BAD_ARGUMENT', `The engine in this build has no method '${method}'.`);
      }
      const callArgs = [...args];
      const remote = onProgress as Remote<ProgressCallback> | undefined;
      if (remote && progressArg >= 0) {
        const opts = (callArgs[progressArg] ?? {}) as object;
        const forward = (e: ProgressEvent): void => {
          remote(e).catch(() => undefined); // the page may have gone; progress is best effort
        };
        callArgs[progressArg] = { ...opts, onProgress: forward };
      }
      try {
        return await (fn as (...a: unknown[]) => Promise<unknown>).apply(engine, callArgs);
      } finally {
        remote?.[releaseProxy]();
      }
    },
  };
}

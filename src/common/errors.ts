/**
 * One error hierarchy for the whole engine. Every error has a stable `code` that UI, CLI and tests
 * match on, and a message that says what failed and what to do. Across the worker boundary errors
 * travel as {@link SerializedError} and are rebuilt with {@link deserializeError}.
 */
export type ErrorCode =
  | 'BAD_ARGUMENT'
  | 'GPU_UNAVAILABLE'
  | 'GPU_LIMITS'
  | 'GPU_VALIDATION'
  | 'GPU_OUT_OF_MEMORY'
  | 'GPU_DEVICE_LOST'
  | 'SHADER_COMPILE'
  | 'SAFETENSORS_FORMAT'
  | 'CHECKPOINT_MISMATCH'
  | 'NON_FINITE'
  | 'UNSUPPORTED_MODEL'
  | 'CONFIG_INVALID'
  | 'TOKENIZER_INVALID'
  | 'FETCH_FAILED'
  | 'FILE_NOT_FOUND'
  | 'CALIBRATION_INVALID'
  | 'TASK_INVALID'
  | 'OUTPUT_EXISTS'
  | 'OUTPUT_FAILED'
  | 'INPUT_TOO_LARGE'
  | 'CANCELLED'
  | 'INTERNAL'
  // Share links, history, resume (src/experiment/share.ts, history.ts)
  | 'SHARE_INVALID'
  /** A result record of a newer record version than this build reads (src/experiment/records.ts). */
  | 'RECORD_NEWER'
  | 'SHARE_NEWER'
  | 'SHARE_TOO_LARGE'
  | 'HISTORY_INVALID'
  | 'STORAGE_FULL'
  | 'STORAGE_UNAVAILABLE'
  | 'HASH_MISMATCH'
  // Hub datasets (src/io/datasets): a damaged file or one the reader cannot decode
  | 'DATASET_FORMAT';

export class PolyPruneError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = 'PolyPruneError';
  }
}

export interface SerializedError {
  name: string;
  code: ErrorCode;
  message: string;
}

export function serializeError(e: unknown): SerializedError {
  if (e instanceof PolyPruneError) return { name: e.name, code: e.code, message: e.message };
  if (e instanceof Error) {
    if (e.name === 'AbortError') return { name: 'PolyPruneError', code: 'CANCELLED', message: e.message || 'Cancelled.' };
    return { name: e.name, code: 'INTERNAL', message: e.message };
  }
  return { name: 'Error', code: 'INTERNAL', message: String(e) };
}

export function deserializeError(s: SerializedError): PolyPruneError {
  return new PolyPruneError(s.code, s.message);
}

/** Throws CANCELLED if the signal is aborted; call between steps of long operations. */
export function throwIfAborted(signal?: AbortSignal): void {
  if (signal?.aborted) throw new PolyPruneError('CANCELLED', 'Cancelled by the user; nothing was written.');
}

export function assertArg(cond: unknown, message: string): asserts cond {
  if (!cond) throw new PolyPruneError('BAD_ARGUMENT', message);
}

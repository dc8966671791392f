/**
 * The size and speed limits of every input the engine reads, in one place (documented in
 * docs/models.md "Limits"), so that the CLI, the page and the Hub downloads apply the same ones.
 * Browser-safe: no imports beyond the error type and the byte formatter.
 */
import { PolyPruneError } from '../common/errors';
import { fmtBytes } from '../common/format';

/**
 * The largest JSON file of a model folder read whole: config.json, tokenizer.json,
 * tokenizer_config.json, model.safetensors.index.json, pruning.json. The largest published
 * tokenizer.json files are about 35 MB (Gemma); an endless or huge answer stops here.
 */
export const MAX_JSON_BYTES = 64 * 1024 * 1024;

/**
 * The largest text file read whole (CLI --text, eval --data, grid --eval/--task files): about
 * 100 million tokens, far more than any perplexity or task run scores; larger text goes in pieces.
 */
export const MAX_TEXT_FILE_BYTES = 256 * 1024 * 1024;

/**
 * A download (body) whose average rate over any stall-timeout-long span is below this many bytes
 * per second fails (default 1 KiB/s; CLI --min-rate). A server that trickles a byte every few
 * seconds never trips the stall timeout; this catches it.
 */
export const DEFAULT_MIN_RATE_BYTES_PER_S = 1024;

/**
 * The most bytes of one tensor a load reads and uploads at a time: src/model/llama.ts uploadMatrix
 * reads a weight matrix in row slices of at most this size (one row pair when rows are larger), so a
 * 1 GiB embedding never sits in host memory whole and no single `queue.writeBuffer`, which the
 * browser stages through a copy of its own, is larger. The plan's host estimate for a load counts
 * from it (src/prune/plan.ts, docs/models.md "Run plans").
 */
export const LOAD_SLICE_BYTES = 64 * 1024 * 1024;

/** The one message for a JSON file over {@link MAX_JSON_BYTES}. */
export function jsonTooLarge(where: string, bytes: number | null, limit = MAX_JSON_BYTES): PolyPruneError {
  return new PolyPruneError(
    'INPUT_TOO_LARGE',
    `${where} is ${bytes === null ? 'larger than' : `${fmtBytes(bytes)}, more than`} ${fmtBytes(limit)}, the limit for a model's JSON files (config, tokenizer, index); it is not a model file. Check the file or the URL.`,
  );
}

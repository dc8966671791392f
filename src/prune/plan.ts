/**
 * What a run needs, computed from config.json and the checkpoint's headers before any weight is read:
 * GPU memory per buffer kind, the biggest buffer that cannot be split, and the bytes to download,
 * against what this adapter allows (maxStorageBufferBindingSize, maxBufferSize) and, when known, the
 * GPU memory and host memory available. `problems` lists, one line each, what cannot work; callers
 * refuse the run when it is not empty (before downloading anything).
 *
 * The figures follow the code: LlamaModel (resident layers or one streamed layer, 64-row weight chunks,
 * forward temporaries of one chunk of whole windows), pruneModel (calibration activations, statistics
 * of the four input groups, a resident pruned copy beside the base model) and sparsegptPrune (Cholesky
 * and inverse scratch of the widest matrix, panels of lcm(32, blocksize) rows), plus what the engine
 * already holds on the same device (other loaded models: the page keeps its bundled model and every
 * pruned copy loaded). They are estimates of live bytes, not of allocator overhead.
 *
 * Shape letters: C hidden, F ffn, H heads, Hkv kv heads, D head dim, V vocab, L layers.
 */
import { fmtBytes } from '../common/format';
import { LOAD_SLICE_BYTES } from '../io/limits';
import { spillPlacement } from '../io/spill';
import type { ModelConfig } from '../io/config';
import type { GpuInfo } from '../gpu/device';
import { METHODS, type PruneMethod } from './methods';

export interface PlanRequest {
  /** 'evaluate': load and score only (perplexity, tasks); otherwise the pruning method. */
  method: PruneMethod | 'evaluate';
  nsamples?: number;
  seqlen?: number;
  blocksize?: number;
  /** Tokens per forward chunk (default 4096, as pruneModel). */
  maxChunkTokens?: number;
}

export interface PlanEnvironment {
  limits: Pick<GpuInfo['limits'], 'maxStorageBufferBindingSize' | 'maxBufferSize'>;
  /** Bytes of the checkpoint's tensors as stored (what a URL or Hub source downloads). */
  checkpointBytes: number;
  /** Bytes of the checkpoint's tensors once converted to f32 on the GPU. */
  f32Bytes: number;
  /**
   * Whether the weight matrices are 16-bit (F16/BF16) and stay packed two per word on the GPU (half
   * the bytes of f32); default false.
   */
  packed?: boolean;
  /** Bytes of the checkpoint's tensors on the GPU as LlamaModel keeps them (packed matrices); default f32Bytes. */
  gpuWeightBytes?: number;
  /** Whether the weights come over the network (URL, Hub) rather than from local files. */
  remote: boolean;
  /** Bytes of the checkpoint a remote load reads from the browser's weight cache instead (default 0). */
  cachedBytes?: number;
  /** GPU memory available, when the caller knows it (WebGPU does not tell); checked when given. */
  gpuMemoryBytes?: number;
  /** Host memory available (CLI: os.totalmem()); checked when given. */
  hostMemoryBytes?: number;
  /**
   * Pruned matrices above this many bytes go to a spill file on disk instead of host memory
   * (EngineOptions.spillPrunedAboveBytes); undefined: the engine has nowhere to spill them.
   */
  spillAboveBytes?: number;
  /** Bytes free where spill files go (Node statfs of the temp folder, the browser's storage estimate), when known. */
  spillFreeBytes?: number;
  /** Force resident layers (default: as LlamaModel.load decides). */
  resident?: boolean;
  /** Bytes of the largest tensor as stored (a load holds one slice of one tensor at a time on the host). */
  largestTensorBytes?: number;
  /**
   * Bytes of the decoder layers' linear weights as stored (what a prune keeps as the pruned model's
   * matrices, in the checkpoint's dtype: the engine's count from the header). Unknown: estimated as the
   * layers' share of checkpointBytes.
   */
  linearBytes?: number;
  /**
   * Bytes of tokenizer.json (its size from stat, the Blob or a HEAD request, before it is read): the
   * tokenizer a load builds from it is counted in loadHostBytes. Unknown: estimated from the vocabulary
   * ({@link TOKENIZER_JSON_BYTES_PER_WORD}).
   */
  tokenizerJsonBytes?: number;
  /**
   * GPU bytes the engine already holds and keeps through the run (other loaded models, pruned copies,
   * kept statistics): the run adds to them, so they count in the peak. Default 0.
   */
  heldBytes?: number;
  /**
   * Whether heldBytes includes this model's own weights (the plan of a model already loaded): they are
   * counted once, in the weight items, and taken out of heldBytes.
   */
  heldIncludesModel?: boolean;
}

export interface PlanItem {
  kind: string;
  bytes: number;
  note: string;
}

export interface RunPlan {
  /** GPU buffers alive at the peak, by kind. */
  gpu: PlanItem[];
  gpuPeakBytes: number;
  /** The largest buffer that cannot be split across bindings, and what it is. */
  biggestBinding: { what: string; bytes: number };
  /** Bytes a load downloads: the remote checkpoint less what the browser's weight cache holds of it. */
  downloadBytes: number;
  /** Bytes of the checkpoint read from the browser's weight cache instead of the network. */
  cachedBytes: number;
  /** Host (CPU) memory the run holds at its peak: the pruned matrices in the source dtype, unless they spill to disk (then 0). */
  hostBytes: number;
  /** Bytes of the pruned matrices in the source dtype (0 when not pruning), in host memory or spilled. */
  prunedBytes: number;
  /** Whether the pruned matrices go to a spill file on disk (src/io/spill.ts) rather than host memory. */
  prunedOnDisk: boolean;
  /** Why pruned matrices that should spill stay in host memory (not enough free disk), also in `notes`. */
  spillNote?: string;
  /**
   * Host memory a load holds at its peak beyond the page or process before it: {@link loadHostBytesOf}
   * the largest tensor (the weights, in slices) plus {@link loadTokenizerBytes}.
   */
  loadHostBytes: number;
  /** The tokenizer's part of loadHostBytes: {@link tokenizerHostBytesOf} tokenizer.json's size. */
  loadTokenizerBytes: number;
  resident: boolean;
  /** 16-bit weight matrices kept packed on the GPU (2 bytes an element). */
  packed: boolean;
  /** GPU bytes of the weights alive at the peak (embeddings, head, decoder layers), as kept (packed or f32). */
  weightBytes: number;
  /** The same weights as f32 (what they would take unpacked). */
  f32WeightBytes: number;
  /** Remarks that do not stop the run (e.g. that it fits only because the weights stay packed). */
  notes: string[];
  limits: { maxBindingBytes: number; maxBufferBytes: number; gpuMemoryBytes?: number; hostMemoryBytes?: number };
  /** One line per thing that cannot work; empty when the run can go ahead. */
  problems: string[];
}

const f32 = 4;

function lcm(a: number, b: number): number {
  let x = a;
  let y = b;
  while (y) [x, y] = [y, x % y];
  return (a / x) * b;
}

/** The plan of one run; pure, no I/O. */
export function planRun(cfg: ModelConfig, req: PlanRequest, env: PlanEnvironment): RunPlan {
  const { hiddenSize: C, intermediateSize: F, numHeads: H, numKvHeads: Hkv, headDim: D, vocabSize: V, numLayers: L } = cfg;
  const maxBind = env.limits.maxStorageBufferBindingSize;
  const maxBuf = env.limits.maxBufferSize;
  const cap = Math.min(maxBind, maxBuf);
  const problems: string[] = [];
  const items: PlanItem[] = [];
  const widest = Math.max(C, F, H * D);
  const packed = !!env.packed;
  // bytes per weight-matrix element on the GPU: 16-bit checkpoints stay packed, two per word
  const wb = packed ? 2 : f32;
  const fmt = packed ? '16-bit, packed two per word' : 'f32';
  const headElems = (cfg.tieWordEmbeddings ? 1 : 2) * V * C;
  const layerElems = 2 * C * H * D + 2 * C * Hkv * D + 3 * C * F;
  // (with the final norm, C floats)
  const headBytes = headElems * wb + C * f32;
  const layerBytes = layerElems * wb + 2 * C * f32;
  const resident = env.resident ?? (env.gpuWeightBytes ?? env.f32Bytes) <= 2 * maxBuf;
  const spec = req.method === 'evaluate' ? null : METHODS[req.method];
  const pruning = spec !== null;
  const sequential = !!spec?.calibrated;
  const layerCount = resident ? L * (pruning ? 2 : 1) : 1;
  // What the engine holds besides this run (a loaded model's own weights are the weight items below;
  // a streamed model keeps only its embeddings and head between layers).
  const ownWeights = env.heldIncludesModel ? headBytes + (resident ? L * layerBytes : 0) : 0;
  const held = Math.max(0, (env.heldBytes ?? 0) - ownWeights);

  items.push({ kind: 'embeddings + head', bytes: headBytes, note: `${cfg.tieWordEmbeddings ? 'embed_tokens (tied head)' : 'embed_tokens and lm_head'}, ${fmt}; the final norm` });
  items.push({
    kind: 'decoder layers',
    bytes: layerCount * layerBytes,
    note: `${resident ? `${L} resident layers${pruning ? ' x 2 (the model and its pruned copy)' : ''}` : 'one layer at a time, streamed from the checkpoint'}, ${fmt}`,
  });
  if (held > 0) items.push({ kind: 'already on the GPU', bytes: held, note: 'other models and statistics this engine holds; they stay loaded during the run' });
  if (packed && pruning) items.push({ kind: 'f32 working copy', bytes: Math.max(C * F, C * H * D) * f32, note: 'the matrix being pruned, unpacked to f32 (written back as 16-bit)' });

  // Forward chunk: whole windows of seqlen tokens, at most maxChunkTokens and what one binding holds.
  const seqlen = req.seqlen ?? 2048;
  const perTokenWidest = widest * f32;
  const chunkCap = Math.max(1, Math.floor(maxBind / perTokenWidest));
  if (seqlen > chunkCap) problems.push(`One window of ${seqlen} tokens needs ${fmtBytes(seqlen * perTokenWidest)} per activation buffer (${widest} wide); this adapter's bindings hold ${chunkCap} tokens. Use --seqlen ${chunkCap} or less.`);
  // (a prune's chunk holds at most its nsamples windows)
  const calibTokens = sequential ? (req.nsamples ?? 128) * seqlen : Infinity;
  const chunkTokens = Math.max(seqlen, Math.floor(Math.min(req.maxChunkTokens ?? 4096, chunkCap, calibTokens) / seqlen) * seqlen);
  items.push({ kind: 'forward temporaries', bytes: chunkTokens * (3 * C + 2 * H * D + 2 * Hkv * D + 2 * F) * f32, note: `one chunk of ${chunkTokens} tokens` });

  let biggest = { what: `64 rows of the widest weight (${widest} columns)`, bytes: 64 * widest * f32 };
  const consider = (what: string, bytes: number) => {
    if (bytes > biggest.bytes) biggest = { what, bytes };
  };
  consider(`one window's activations (${seqlen} x ${widest})`, seqlen * widest * f32);

  if (sequential) {
    const n = req.nsamples ?? 128;
    items.push({ kind: 'calibration activations', bytes: n * seqlen * C * f32, note: `${n} x ${seqlen} tokens x ${C} hidden, f32` });
  }
  if (spec?.statistic === 'norms') {
    items.push({ kind: 'statistics', bytes: (2 * C + H * D + F) * f32, note: 'Wanda scaler_row of the four input groups' });
  } else if (spec?.statistic === 'hessian') {
    const hess = (2 * C * C + H * D * H * D + F * F) * f32;
    items.push({ kind: 'statistics', bytes: hess, note: 'SparseGPT Hessians of the four input groups (q/k/v, o, gate/up, down)' });
    const bs = Math.min(req.blocksize ?? spec.solver?.blocksize ?? 128, widest);
    const rows = Math.max(H * D, F, C);
    items.push({ kind: 'SparseGPT scratch', bytes: 2 * F * F * f32 + C * C * f32 + 2 * rows * bs * f32, note: `Cholesky and inverse of the widest Hessian (${F}^2 x 2), a shared-Hessian copy, block buffers` });
    // Panels of lcm(32, bs) rows must fit a binding; H itself may be split by single rows.
    const align = lcm(32, bs);
    for (const d of new Set([C, H * D, F])) {
      if (d * d * f32 <= cap) continue;
      consider(`SparseGPT panel of ${align} rows x ${d} columns`, align * d * f32);
      if (align * d * f32 > cap) problems.push(`SparseGPT on ${d}-wide inputs needs panels of ${align} rows (${fmtBytes(align * d * f32)}) in one binding; this adapter allows ${fmtBytes(cap)}. Use a smaller --blocksize or Wanda.`);
    }
    consider(`SparseGPT block scratch (${rows} rows x ${bs})`, rows * bs * f32);
    if (rows * bs * f32 > maxBind) problems.push(`SparseGPT block scratch of ${rows} rows x ${bs} columns (${fmtBytes(rows * bs * f32)}) exceeds one binding (${fmtBytes(maxBind)}); use a smaller --blocksize.`);
  }
  if (!pruning) {
    const logitRows = Math.max(1, Math.min(chunkTokens, Math.floor(maxBind / (V * f32)), 4096));
    items.push({ kind: 'logits', bytes: logitRows * V * f32, note: `${logitRows} rows x ${V} vocab per chunk` });
  }
  consider(`one row of logits (${V} vocab)`, V * f32);
  if (64 * widest * f32 > maxBind) problems.push(`This adapter's storage bindings (${fmtBytes(maxBind)}) are too small for 64 rows of ${widest}-wide weights (${fmtBytes(64 * widest * f32)}).`);
  if (V * f32 > maxBind) problems.push(`One row of logits (${V} x 4 bytes) exceeds this adapter's binding limit (${fmtBytes(maxBind)}).`);

  const gpuPeakBytes = items.reduce((s, i) => s + i.bytes, 0);
  const cached = env.remote ? Math.min(env.checkpointBytes, env.cachedBytes ?? 0) : 0;
  const notes: string[] = [];
  if (env.gpuMemoryBytes !== undefined && gpuPeakBytes > env.gpuMemoryBytes) {
    problems.push(`The run needs about ${fmtBytes(gpuPeakBytes)} of GPU memory; ${fmtBytes(env.gpuMemoryBytes)} are available (${packed ? 'counting its 16-bit weights packed, 2 bytes each' : 'its weights are f32; a BF16 or F16 checkpoint of the model would halve them'}). ${resident ? 'Streaming the layers (not resident) or ' : ''}fewer calibration samples or a shorter --seqlen need less.${held ? ` ${fmtBytes(held)} of it is held by other loaded models: unloading them frees it.` : ''}`);
  } else if (packed && env.gpuMemoryBytes !== undefined) {
    const unpacked = planRun(cfg, req, { ...env, packed: false, gpuWeightBytes: env.f32Bytes, gpuMemoryBytes: undefined, hostMemoryBytes: undefined, resident });
    if (unpacked.gpuPeakBytes > env.gpuMemoryBytes) {
      notes.push(`Fits only because the 16-bit weights stay packed on the GPU: about ${fmtBytes(gpuPeakBytes)} of ${fmtBytes(env.gpuMemoryBytes)}; unpacked to f32 the run would need ${fmtBytes(unpacked.gpuPeakBytes)}.`);
    }
  }
  const tokenizerBytes = tokenizerHostBytesOf(env.tokenizerJsonBytes ?? V * TOKENIZER_JSON_BYTES_PER_WORD);
  const linearBytes = env.linearBytes ?? env.checkpointBytes * (layerBytes / Math.max(1, layerBytes + headBytes / L));
  const prunedBytes = pruning ? Math.round(linearBytes) : 0;
  const place = spillPlacement(prunedBytes, { aboveBytes: env.spillAboveBytes ?? Infinity, backing: env.spillAboveBytes !== undefined, freeBytes: env.spillFreeBytes });
  if (place.note) notes.push(place.note);
  const hostBytes = place.onDisk ? 0 : prunedBytes;
  if (env.hostMemoryBytes !== undefined && hostBytes > env.hostMemoryBytes) {
    problems.push(`Exporting holds the pruned matrices in memory (about ${fmtBytes(hostBytes)}); this machine has ${fmtBytes(env.hostMemoryBytes)}.`);
  }
  return {
    gpu: items,
    gpuPeakBytes,
    biggestBinding: biggest,
    downloadBytes: env.remote ? Math.max(0, env.checkpointBytes - cached) : 0,
    cachedBytes: cached,
    hostBytes,
    prunedBytes,
    prunedOnDisk: place.onDisk,
    ...(place.note ? { spillNote: place.note } : {}),
    loadHostBytes: loadHostBytesOf(env.largestTensorBytes ?? 0) + tokenizerBytes,
    loadTokenizerBytes: tokenizerBytes,
    resident,
    packed,
    weightBytes: headBytes + layerCount * layerBytes,
    f32WeightBytes: (headElems + C) * f32 + layerCount * (layerElems + 2 * C) * f32,
    notes,
    limits: { maxBindingBytes: maxBind, maxBufferBytes: maxBuf, gpuMemoryBytes: env.gpuMemoryBytes, hostMemoryBytes: env.hostMemoryBytes },
    problems,
  };
}

/**
 * Slices' worth of host memory a load is counted at. Three copies of a slice are alive at once in the
 * page: the slice as read (the reader's buffer), the copy the browser's weight cache stores from it
 * (a download; src/io/cache.ts) and the copy `queue.writeBuffer` stages on its way to the GPU (the
 * CLI holds the first and the last). Slices already uploaded stay in memory until the JavaScript
 * engine collects them: Chromium was measured at up to 7 slices beyond the page's own size for two
 * 256 MiB matrices, and up to about 14 for the 8B shapes' 1-2 GiB embeddings and heads, the
 * tokenizer aside (docs/models.md, "Run plans"), so the estimate counts 16.
 */
export const LOAD_SLICE_COPIES = 16;

/**
 * Host memory a load holds at its peak beyond the page or process, for a checkpoint whose largest
 * tensor has `largestTensorBytes`: tensors go one at a time, each read and uploaded in slices of at
 * most LOAD_SLICE_BYTES (src/model/llama.ts uploadMatrix), counted as {@link LOAD_SLICE_COPIES} slices.
 */
export function loadHostBytesOf(largestTensorBytes: number): number {
  return LOAD_SLICE_COPIES * Math.min(largestTensorBytes, LOAD_SLICE_BYTES);
}

/**
 * Host bytes a tokenizer is counted at, per byte of its tokenizer.json. A byte-level BPE tokenizer is
 * held as JavaScript objects: the parsed JSON (the tokenizers library keeps it), a Map of the
 * vocabulary, an array of every merge pair and a Map of their ranks, a few hundred bytes per word and
 * per merge; building it also holds the file's text (2 bytes a character) and garbage. Measured on the
 * size ladder's tokenizers of 49152 to 256000 words (docs/models.md, "Run plans"): the peak RSS a load
 * of one adds was 37-57 bytes per byte of the file above a fixed 16 MiB in Node, less in Chromium's
 * renderer; what stays on the heap after collection, 16-21. Published tokenizers have longer pieces
 * than the ladder's letter n-grams, so fewer objects per byte of file.
 */
export const TOKENIZER_HOST_BYTES_PER_BYTE = 64;

/** The fixed part of a tokenizer's host memory (the library's structures, compiled code, a young heap): 32 MiB. */
export const TOKENIZER_HOST_BASE_BYTES = 32 * 2 ** 20;

/**
 * tokenizer.json bytes per vocabulary word, when the file's size is not known before the load (no size
 * from the server): well above the size ladder's tokenizers (21-31 bytes a word, merges included).
 */
export const TOKENIZER_JSON_BYTES_PER_WORD = 80;

/**
 * Host memory a tokenizer holds, counted at its peak (reading and building it), for a tokenizer.json of
 * `tokenizerJsonBytes`: {@link TOKENIZER_HOST_BASE_BYTES} + {@link TOKENIZER_HOST_BYTES_PER_BYTE} x the
 * file (0 for no file). Most of it stays held while the model is loaded.
 */
export function tokenizerHostBytesOf(tokenizerJsonBytes: number): number {
  if (!(Number.isFinite(tokenizerJsonBytes) && tokenizerJsonBytes > 0)) return 0;
  return TOKENIZER_HOST_BASE_BYTES + TOKENIZER_HOST_BYTES_PER_BYTE * tokenizerJsonBytes;
}

/**
 * Where a prune's pruned matrices go, as a clause for the page: ' and 1.2 GiB of host memory to
 * export', ' and 13 GiB on disk (spilled, not in memory) to export', or '' when not pruning.
 */
export function prunedBytesText(p: RunPlan): string {
  if (!p.prunedBytes) return '';
  return p.prunedOnDisk ? ` and ${fmtBytes(p.prunedBytes)} on disk (the pruned matrices, spilled: not in memory) to export` : ` and ${fmtBytes(p.prunedBytes)} of host memory to export${p.spillNote ? ` (${p.spillNote})` : ''}`;
}

/** The plan as lines for a terminal or a panel. */
export function describePlan(p: RunPlan): string[] {
  const lines = p.gpu.map((i) => `  ${i.kind.padEnd(26)} ${fmtBytes(i.bytes).padStart(11)}  ${i.note}`);
  lines.unshift('GPU memory at the peak (estimate):');
  lines.push(`  ${'total'.padEnd(26)} ${fmtBytes(p.gpuPeakBytes).padStart(11)}${p.limits.gpuMemoryBytes !== undefined ? `  of ${fmtBytes(p.limits.gpuMemoryBytes)} available` : '  (WebGPU does not report the GPU memory size)'}`);
  lines.push(`biggest binding: ${fmtBytes(p.biggestBinding.bytes)} (${p.biggestBinding.what}); this adapter allows ${fmtBytes(p.limits.maxBindingBytes)} per binding, ${fmtBytes(p.limits.maxBufferBytes)} per buffer`);
  lines.push(`download: ${p.downloadBytes ? fmtBytes(p.downloadBytes) : p.cachedBytes ? 'nothing (in the cache)' : 'nothing (local files)'}${p.downloadBytes && p.cachedBytes ? ` (${fmtBytes(p.cachedBytes)} more in the cache)` : ''}; ${p.prunedOnDisk ? `pruned matrices on disk (spilled): ${fmtBytes(p.prunedBytes)}; host memory` : p.prunedBytes ? 'pruned matrices in host memory' : 'host memory'}: ${fmtBytes(p.hostBytes)}${p.limits.hostMemoryBytes !== undefined ? ` of ${fmtBytes(p.limits.hostMemoryBytes)}` : ''} (loading: ${fmtBytes(p.loadHostBytes)}: tensors in slices of at most ${fmtBytes(LOAD_SLICE_BYTES)}, the tokenizer about ${fmtBytes(p.loadTokenizerBytes)})`);
  lines.push(`weights on the GPU: ${fmtBytes(p.weightBytes)}${p.packed ? ` (16-bit, packed; ${fmtBytes(p.f32WeightBytes)} as f32)` : ' (f32)'}`);
  for (const n of p.notes) lines.push(`note: ${n}`);
  for (const pr of p.problems) lines.push(`cannot run: ${pr}`);
  return lines;
}

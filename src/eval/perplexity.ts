/**
 * Perplexity windows and aggregation (pure CPU; the NLLs come from a {@link SequenceScorer}).
 *
 * A token stream (optionally led by a prefix token, e.g. BOS) is cut into windows; each window is a
 * token sequence of at most `seqLen` tokens and a position `scoreFrom` (>= 1): the predictions of
 * tokens scoreFrom..n-1 of the window count. Every counted token is counted exactly once.
 *
 * - 'chunks': non-overlapping windows of seqLen tokens, each predicting its tokens 1..n-1; the first
 *   token of each chunk is never predicted (the Wanda / SparseGPT `eval_ppl` convention). A shorter
 *   last chunk (>= 2 tokens) is kept unless `dropRemainder` (Wanda drops it).
 * - 'sliding': the first window predicts its tokens 1..n-1; every later window predicts the next
 *   `stride` tokens not yet scored, with as much preceding context as fits in seqLen tokens. With a
 *   prefix token, seqLen = L + 1 and stride = L this is lm-eval's `loglikelihood_rolling`
 *   (lm_eval/utils.py `get_rolling_token_windows` with context_len 1, max_seq_len L): every token of
 *   the text is predicted, the first from the prefix token alone.
 *
 * Bits per byte = total NLL / ln 2 / bytes, where bytes = the sum of the UTF-8 byte lengths of the
 * predicted tokens (a per-vocabulary-id table from the tokenizer layer), or the text's own byte
 * count when the caller gives that instead (lm-eval's `bits_per_byte` uses the document's bytes).
 */
import { PolyPruneError, throwIfAborted } from '../common/errors';
import type { ProgressCallback } from '../common/progress';
import type { Pacer } from '../common/pace';
import type { PerplexityRecord } from './results';
import type { SequenceScorer } from './types';

export interface PplWindow {
  /** (n) token ids, n <= seqLen. */
  tokens: Int32Array;
  /** Predictions of tokens scoreFrom..n-1 count (NLL entries scoreFrom-1..n-2). */
  scoreFrom: number;
  /** Index of tokens[0] in the stream (the prefix token, if any, is stream index 0). */
  start: number;
  /** Which document the window belongs to (index into the list of streams). */
  doc: number;
}

export interface WindowOptions {
  /** Tokens per window (>= 2). With a SequenceScorer this may be at most maxContext + 1. */
  seqLen: number;
  mode: 'chunks' | 'sliding';
  /** 'sliding' only: new tokens predicted per window after the first; 1..seqLen-1, default seqLen-1. */
  stride?: number;
  /** Put this token before each stream so that its first token is predicted too. */
  prefixTokenId?: number;
  /** 'chunks' only: drop a last chunk shorter than seqLen. */
  dropRemainder?: boolean;
}

function checkWindowOptions(o: WindowOptions): number {
  if (!Number.isInteger(o.seqLen) || o.seqLen < 2) throw new PolyPruneError('BAD_ARGUMENT', `seqLen must be an integer >= 2, got ${o.seqLen}.`);
  if (o.mode !== 'chunks' && o.mode !== 'sliding') throw new PolyPruneError('BAD_ARGUMENT', `mode must be 'chunks' or 'sliding', got '${String(o.mode)}'.`);
  const stride = o.stride ?? o.seqLen - 1;
  if (o.mode === 'sliding' && !(Number.isInteger(stride) && stride >= 1 && stride <= o.seqLen - 1)) {
    throw new PolyPruneError('BAD_ARGUMENT', `stride must be an integer in 1..${o.seqLen - 1} (seqLen - 1), got ${o.stride}.`);
  }
  return stride;
}

/** Windows over one or several token streams (documents); windows never cross documents. */
export function perplexityWindows(streams: Int32Array | readonly Int32Array[], opts: WindowOptions): PplWindow[] {
  const stride = checkWindowOptions(opts);
  const docs = streams instanceof Int32Array ? [streams] : streams;
  const W = opts.seqLen;
  const out: PplWindow[] = [];
  docs.forEach((ids, doc) => {
    let s = ids;
    if (opts.prefixTokenId !== undefined) {
      s = new Int32Array(ids.length + 1);
      s[0] = opts.prefixTokenId;
      s.set(ids, 1);
    }
    const L = s.length;
    if (L < 2) return;
    if (opts.mode === 'chunks') {
      for (let a = 0; a < L; a += W) {
        const e = Math.min(a + W, L);
        if (e - a < 2 || (opts.dropRemainder && e - a < W)) break;
        out.push({ tokens: s.slice(a, e), scoreFrom: 1, start: a, doc });
      }
      return;
    }
    let p = Math.min(W, L); // first unscored position
    out.push({ tokens: s.slice(0, p), scoreFrom: 1, start: 0, doc });
    while (p < L) {
      const e = Math.min(p + stride, L);
      const a = Math.max(0, e - W);
      out.push({ tokens: s.slice(a, e), scoreFrom: p - a, start: a, doc });
      p = e;
    }
  });
  return out;
}

export interface PerplexityStats {
  /** Sum of NLLs of the predicted tokens (natural log). */
  totalNll: number;
  tokens: number;
  /** Bytes used for bits per byte (0 if unknown). */
  bytes: number;
  meanNll: number;
  ppl: number;
  bitsPerByte: number | null;
}

export interface ByteOptions {
  /** UTF-8 byte length of every vocabulary id (special tokens 0). */
  tokenBytes?: Uint32Array;
  /** Byte count to use instead of the per-token table (e.g. the text's UTF-8 length). */
  textBytes?: number;
}

/** Sum the counted NLLs of each window (nlls[i] has windows[i].tokens.length - 1 entries). */
export function aggregatePerplexity(windows: readonly PplWindow[], nlls: readonly ArrayLike<number>[], bytesOpts: ByteOptions = {}): PerplexityStats {
  if (nlls.length !== windows.length) throw new PolyPruneError('INTERNAL', `${nlls.length} NLL arrays for ${windows.length} windows.`);
  let totalNll = 0;
  let tokens = 0;
  let tableBytes = 0;
  windows.forEach((w, i) => {
    const v = nlls[i];
    if (v.length !== w.tokens.length - 1) throw new PolyPruneError('INTERNAL', `Window ${i}: ${v.length} NLLs for ${w.tokens.length} tokens (want n-1).`);
    for (let t = w.scoreFrom; t < w.tokens.length; t++) {
      totalNll += v[t - 1];
      tokens++;
      if (bytesOpts.tokenBytes) tableBytes += bytesOpts.tokenBytes[w.tokens[t]] ?? 0;
    }
  });
  if (tokens === 0) throw new PolyPruneError('BAD_ARGUMENT', 'No tokens to score: the text is shorter than two tokens.');
  const bytes = bytesOpts.textBytes ?? (bytesOpts.tokenBytes ? tableBytes : 0);
  const meanNll = totalNll / tokens;
  return { totalNll, tokens, bytes, meanNll, ppl: Math.exp(meanNll), bitsPerByte: bytes > 0 ? totalNll / Math.LN2 / bytes : null };
}

export interface PerplexityOptions extends WindowOptions, ByteOptions {
  language: string;
  /** Windows per scorer call (default: as many as fit in 4096 padded tokens). */
  batchWindows?: number;
  signal?: AbortSignal;
  onProgress?: ProgressCallback;
  /** Size scorer calls by time (src/common/pace.ts), at most `batchWindows` windows each. */
  pace?: Pacer;
}

/** Window the streams, score them, aggregate: a perplexity record. */
export async function scorePerplexity(
  streams: Int32Array | readonly Int32Array[],
  scorer: SequenceScorer,
  opts: PerplexityOptions,
): Promise<PerplexityRecord & { totalNll: number; windows: number }> {
  if (opts.seqLen > scorer.maxContext + 1) {
    throw new PolyPruneError('BAD_ARGUMENT', `seqLen ${opts.seqLen} exceeds the scorer's maxContext + 1 = ${scorer.maxContext + 1}.`);
  }
  const windows = perplexityWindows(streams, opts);
  const per = opts.batchWindows ?? Math.max(1, Math.floor(4096 / opts.seqLen));
  const nlls: Float32Array[] = [];
  opts.onProgress?.({ kind: 'eval', message: `perplexity ${opts.language}: windows`, done: 0, total: windows.length });
  for (let i = 0; i < windows.length; ) {
    throwIfAborted(opts.signal);
    const n = opts.pace ? Math.max(1, Math.floor(opts.pace.tokens(per * opts.seqLen) / opts.seqLen)) : per;
    const batch = windows.slice(i, i + n);
    const t0 = performance.now();
    const out = await scorer.tokenNll(
      batch.map((w) => w.tokens),
      opts.signal,
    );
    opts.pace?.took(batch.reduce((a, w) => a + w.tokens.length, 0), performance.now() - t0);
    nlls.push(...out);
    i += batch.length;
    opts.onProgress?.({ kind: 'eval', message: `perplexity ${opts.language}: windows`, done: i, total: windows.length });
  }
  const st = aggregatePerplexity(windows, nlls, opts);
  return {
    kind: 'perplexity',
    language: opts.language,
    ppl: st.ppl,
    meanNll: st.meanNll,
    bitsPerByte: st.bitsPerByte,
    tokens: st.tokens,
    bytes: st.bytes,
    totalNll: st.totalNll,
    windows: windows.length,
  };
}

/**
 * Log-likelihood of (context, continuation) requests with lm-evaluation-harness semantics
 * (EleutherAI/lm-evaluation-harness, lm_eval/api/model.py `TemplateLM._encode_pair` and
 * `loglikelihood`, lm_eval/models/huggingface.py `_loglikelihood_tokens`):
 *
 * - Trailing whitespace of the context moves to the front of the continuation.
 * - whole = encode(context + continuation), context_enc = encode(context),
 *   continuation_enc = whole[len(context_enc):] (no special tokens unless `addSpecialTokens`,
 *   lm-eval's `add_bos_token=True`).
 * - An empty context is replaced by the prefix token (BOS, else EOS) and the continuation is
 *   encoded on its own.
 * - The scored sequence is (context_enc + continuation_enc) cut from the LEFT to maxContext + 1
 *   tokens; such requests are counted as truncated.
 * - log-likelihood = sum of log p over the continuation tokens = -sum of their NLLs.
 *
 * Not computed: lm-eval's `is_greedy` (whether every continuation token is the argmax). It needs the
 * argmax over the vocabulary at each position, which the NLL-only {@link SequenceScorer} does not
 * return.
 *
 * Batching: requests are encoded, identical token sequences are scored once (this happens when
 * several requests share context and continuation, e.g. repeated items, or several choices whose
 * texts tokenize alike), and the unique sequences are sorted longest first (lm-eval's Collator
 * order) and cut into batches of at most `batchTokens` padded tokens. Choices that share a context
 * are still scored as separate full sequences: reusing the context's activations would need a KV
 * cache in the scorer, and lm-eval's one-token-continuation logits cache needs full logits.
 */
import { PolyPruneError, throwIfAborted } from '../common/errors';
import type { EvalTokenizer, LlRequest, SequenceScorer } from './types';

export interface EncodeOptions {
  /** Token used as the whole context when the context is empty. Default: BOS, else EOS (lm-eval `prefix_token_id`). */
  prefixTokenId?: number;
  /** Encode with the tokenizer's special tokens (lm-eval `add_bos_token=True`). Default false, like lm-eval for causal LMs. */
  addSpecialTokens?: boolean;
}

export interface EncodedPair {
  context: Int32Array;
  continuation: Int32Array;
}

function toI32(ids: Int32Array | ArrayLike<number>): Int32Array {
  return ids instanceof Int32Array ? ids : Int32Array.from(ids as ArrayLike<number>);
}

/** lm-eval's prefix token: an explicit override, else BOS, else EOS. */
export function resolvePrefixToken(tok: EvalTokenizer, override?: number): number {
  const id = override ?? tok.bosTokenId ?? tok.eosTokenId;
  if (id === undefined || !Number.isInteger(id) || id < 0) {
    throw new PolyPruneError(
      'BAD_ARGUMENT',
      "This task has items with an empty context (minimal pairs such as the bundled swap/replace tasks or CLAMS), which need a BOS or EOS token to start from, but this model's tokenizer defines neither. Score tasks with a context instead (XCOPA, UDHR, ...), or use a tokenizer with a BOS token.",
    );
  }
  return id;
}

/** Tokenize one request the way lm-eval does (see the file comment). */
export function encodePair(tok: EvalTokenizer, context: string, continuation: string, opts: EncodeOptions = {}): EncodedPair {
  const special = { addSpecialTokens: opts.addSpecialTokens ?? false };
  if (context === '') {
    // As in lm-eval, the continuation is encoded with the same special-token setting, so with
    // addSpecialTokens it starts with its own BOS after the prefix token.
    return { context: Int32Array.of(resolvePrefixToken(tok, opts.prefixTokenId)), continuation: toI32(tok.encode(continuation, special)) };
  }
  const stripped = context.trimEnd();
  const moved = context.slice(stripped.length);
  if (stripped === '') {
    // Whitespace-only context: after moving the whitespace nothing is left; treat it as empty.
    return encodePair(tok, '', moved + continuation, opts);
  }
  const whole = toI32(tok.encode(stripped + moved + continuation, special));
  const ctx = toI32(tok.encode(stripped, special));
  return { context: ctx, continuation: whole.slice(Math.min(ctx.length, whole.length)) };
}

/** One sequence to score and how many of its last tokens are the continuation. */
export interface PreparedSequence {
  tokens: Int32Array;
  /** The last `scored` tokens are the (possibly truncated) continuation; always <= tokens.length - 1. */
  scored: number;
  /** Continuation tokens before truncation. */
  continuationTokens: number;
  truncated: boolean;
}

/** Concatenate and cut from the left to at most maxContext + 1 tokens (lm-eval `[-(max_length + 1):]`). */
export function prepareSequence(pair: EncodedPair, maxContext: number): PreparedSequence {
  const n = pair.context.length + pair.continuation.length;
  const keep = Math.min(n, maxContext + 1);
  const full = new Int32Array(n);
  full.set(pair.context, 0);
  full.set(pair.continuation, pair.context.length);
  const tokens = full.slice(n - keep);
  return {
    tokens,
    scored: Math.min(pair.continuation.length, Math.max(0, keep - 1)),
    continuationTokens: pair.continuation.length,
    truncated: n > keep,
  };
}

export interface LoglikelihoodResult {
  /** Sum of natural-log probabilities of the scored continuation tokens (0 when none were scored). */
  logLikelihood: number;
  /** Continuation tokens scored; 0 means the continuation encoded to no tokens (lm-eval would assert). */
  tokens: number;
  /** The sequence was cut from the left to fit maxContext + 1 tokens. */
  truncated: boolean;
}

export interface LoglikelihoodOptions extends EncodeOptions {
  /** Padded tokens per scorer call (longest sequence x count). Default max(4096, maxContext + 1). */
  batchTokens?: number;
  signal?: AbortSignal;
  /** Called after each scorer call with unique sequences done / total. */
  onBatch?: (done: number, total: number) => void;
}

export interface LoglikelihoodRun {
  results: LoglikelihoodResult[];
  /** Requests whose sequence was cut from the left. */
  truncated: number;
  /** Unique sequences sent to the scorer (<= requests). */
  sequences: number;
  scorerCalls: number;
}

/** Score many requests; results are in request order. */
export async function computeLoglikelihoods(
  requests: readonly LlRequest[],
  tok: EvalTokenizer,
  scorer: SequenceScorer,
  opts: LoglikelihoodOptions = {},
): Promise<LoglikelihoodRun> {
  const maxContext = scorer.maxContext;
  if (!Number.isInteger(maxContext) || maxContext < 1) {
    throw new PolyPruneError('BAD_ARGUMENT', `scorer.maxContext must be a positive integer, got ${maxContext}.`);
  }
  const batchTokens = opts.batchTokens ?? Math.max(4096, maxContext + 1);
  if (!(batchTokens >= 2)) throw new PolyPruneError('BAD_ARGUMENT', `batchTokens must be >= 2, got ${batchTokens}.`);

  // Encode every request; dedupe identical token sequences.
  const prepared: PreparedSequence[] = [];
  const uniqueOf: number[] = [];
  const unique: Int32Array[] = [];
  const byKey = new Map<string, number>();
  for (const r of requests) {
    throwIfAborted(opts.signal);
    const p = prepareSequence(encodePair(tok, r.context, r.continuation, opts), maxContext);
    prepared.push(p);
    if (p.scored === 0) {
      uniqueOf.push(-1);
      continue;
    }
    const key = p.tokens.join(',');
    let u = byKey.get(key);
    if (u === undefined) {
      u = unique.length;
      unique.push(p.tokens);
      byKey.set(key, u);
    }
    uniqueOf.push(u);
  }

  // Longest first, then batches bounded by padded tokens.
  const order = unique.map((_, i) => i).sort((a, b) => unique[b].length - unique[a].length || a - b);
  const nll: Float32Array[] = new Array(unique.length);
  let done = 0;
  let calls = 0;
  for (let i = 0; i < order.length; ) {
    throwIfAborted(opts.signal);
    const longest = unique[order[i]].length;
    const count = Math.max(1, Math.floor(batchTokens / longest));
    const batch = order.slice(i, i + count);
    const out = await scorer.tokenNll(
      batch.map((u) => unique[u]),
      opts.signal,
    );
    calls++;
    if (out.length !== batch.length) {
      throw new PolyPruneError('INTERNAL', `Scorer returned ${out.length} results for ${batch.length} sequences.`);
    }
    batch.forEach((u, j) => {
      if (out[j].length !== unique[u].length - 1) {
        throw new PolyPruneError('INTERNAL', `Scorer returned ${out[j].length} NLLs for a sequence of ${unique[u].length} tokens (want n-1).`);
      }
      nll[u] = out[j];
    });
    i += batch.length;
    done += batch.length;
    opts.onBatch?.(done, order.length);
  }

  let truncated = 0;
  const results = prepared.map((p, r) => {
    if (p.truncated) truncated++;
    const u = uniqueOf[r];
    if (u < 0) return { logLikelihood: 0, tokens: 0, truncated: p.truncated };
    const v = nll[u];
    const n = p.tokens.length;
    let s = 0;
    // Entry j is the NLL of token j + 1; the continuation is tokens n - scored .. n - 1.
    for (let j = n - 1 - p.scored; j < n - 1; j++) s += v[j];
    return { logLikelihood: -s, tokens: p.scored, truncated: p.truncated };
  });
  return { results, truncated, sequences: unique.length, scorerCalls: calls };
}

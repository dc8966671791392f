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
 * order) and cut into batches of at most `batchTokens` padded tokens.
 *
 * Context sharing: when the scorer offers `tokenNllShared`, sequences that start with the same
 * context tokens (the choices of an XCOPA, XStoryCloze, XNLI, Belebele or UDHR item: lm-eval sends
 * one request per choice with the same context) are scored as one group, the context run once and
 * its keys/values reused by every choice. The result is the same as the full run (the same
 * arithmetic in the same order). Only a shared context is shared: the two options of an XWinograd
 * item differ in the context and share the continuation (lm-eval's partial evaluation), so they are
 * not grouped with each other (the schema's twin sentences, which start alike, do give the same
 * context to two items, and those are grouped); contexts of one token have nothing to save.
 * `shareContext: false` turns it off.
 */
import { PolyPruneError, throwIfAborted } from '../common/errors';
import type { Pacer } from '../common/pace';
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
  /** Run a context shared by several choices once, when the scorer can (default true). */
  shareContext?: boolean;
  /** Called after each scorer call with unique sequences done / total. */
  onBatch?: (done: number, total: number) => void;
  /** Size scorer calls by time (src/common/pace.ts), at most `batchTokens` each. */
  pace?: Pacer;
}

export interface LoglikelihoodRun {
  results: LoglikelihoodResult[];
  /** Requests whose sequence was cut from the left. */
  truncated: number;
  /** Unique sequences sent to the scorer (<= requests). */
  sequences: number;
  scorerCalls: number;
  /** Groups of sequences scored with their shared context run once (0 without sharing). */
  sharedContexts: number;
  /** Tokens the model ran on, padding not counted (a shared context counts once). */
  forwardTokens: number;
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

  // Every request of a unique sequence is covered when its context split is the one with the longest continuation.
  const maxScored = new Array<number>(unique.length).fill(0);
  prepared.forEach((p, r) => {
    if (uniqueOf[r] >= 0) maxScored[uniqueOf[r]] = Math.max(maxScored[uniqueOf[r]], p.scored);
  });
  const nll: Float32Array[] = new Array(unique.length);
  let done = 0;
  let calls = 0;
  let forwardTokens = 0;

  // Context sharing: group sequences by their context tokens.
  const groups: { prefixLen: number; members: number[] }[] = [];
  const inGroup = new Array<boolean>(unique.length).fill(false);
  if ((opts.shareContext ?? true) && scorer.tokenNllShared) {
    const byPrefix = new Map<string, number[]>();
    unique.forEach((t, u) => {
      const P = t.length - maxScored[u];
      if (P < 2) return; // the last context token runs with each choice anyway: nothing to share
      const key = t.subarray(0, P).join(',');
      const m = byPrefix.get(key);
      if (m) m.push(u);
      else byPrefix.set(key, [u]);
    });
    for (const members of byPrefix.values()) {
      if (members.length < 2) continue;
      groups.push({ prefixLen: unique[members[0]].length - maxScored[members[0]], members });
      for (const u of members) inGroup[u] = true;
    }
  }
  const groupTokens = (gr: { prefixLen: number; members: number[] }) => gr.prefixLen + gr.members.reduce((a, u) => a + maxScored[u], 0);
  groups.sort((a, b) => groupTokens(b) - groupTokens(a));
  for (let i = 0; i < groups.length; ) {
    throwIfAborted(opts.signal);
    let end = i + 1;
    let tokens = groupTokens(groups[i]);
    const cap = opts.pace ? opts.pace.tokens(batchTokens) : batchTokens;
    while (end < groups.length && tokens + groupTokens(groups[end]) <= cap) tokens += groupTokens(groups[end++]);
    const batch = groups.slice(i, end);
    const t0 = performance.now();
    const out = await scorer.tokenNllShared!(
      batch.map((gr) => ({
        prefix: unique[gr.members[0]].slice(0, gr.prefixLen),
        suffixes: gr.members.map((u) => unique[u].slice(gr.prefixLen)),
      })),
      opts.signal,
    );
    opts.pace?.took(tokens, performance.now() - t0);
    calls++;
    if (out.length !== batch.length) throw new PolyPruneError('INTERNAL', `Scorer returned ${out.length} groups for ${batch.length}.`);
    batch.forEach((gr, j) => {
      if (out[j].length !== gr.members.length) throw new PolyPruneError('INTERNAL', `Scorer returned ${out[j].length} suffixes for ${gr.members.length}.`);
      gr.members.forEach((u, m) => {
        if (out[j][m].length !== maxScored[u]) throw new PolyPruneError('INTERNAL', `Scorer returned ${out[j][m].length} NLLs for a suffix of ${maxScored[u]} tokens.`);
        // Entry j of a full result is the NLL of token j + 1: the suffix starts at entry prefixLen - 1.
        const v = new Float32Array(unique[u].length - 1);
        v.set(out[j][m], gr.prefixLen - 1);
        nll[u] = v;
      });
      forwardTokens += groupTokens(gr) - 1;
      done += gr.members.length;
    });
    i = end;
    opts.onBatch?.(done, unique.length);
  }

  // The rest whole: longest first, then batches bounded by padded tokens.
  const order = unique
    .map((_, i) => i)
    .filter((u) => !inGroup[u])
    .sort((a, b) => unique[b].length - unique[a].length || a - b);
  for (let i = 0; i < order.length; ) {
    throwIfAborted(opts.signal);
    const longest = unique[order[i]].length;
    const count = Math.max(1, Math.floor((opts.pace ? opts.pace.tokens(batchTokens) : batchTokens) / longest));
    const batch = order.slice(i, i + count);
    const t0 = performance.now();
    const out = await scorer.tokenNll(
      batch.map((u) => unique[u]),
      opts.signal,
    );
    opts.pace?.took(batch.length * longest, performance.now() - t0);
    calls++;
    if (out.length !== batch.length) {
      throw new PolyPruneError('INTERNAL', `Scorer returned ${out.length} results for ${batch.length} sequences.`);
    }
    batch.forEach((u, j) => {
      if (out[j].length !== unique[u].length - 1) {
        throw new PolyPruneError('INTERNAL', `Scorer returned ${out[j].length} NLLs for a sequence of ${unique[u].length} tokens (want n-1).`);
      }
      nll[u] = out[j];
      forwardTokens += unique[u].length - 1;
    });
    i += batch.length;
    done += batch.length;
    opts.onBatch?.(done, unique.length);
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
  return { results, truncated, sequences: unique.length, scorerCalls: calls, sharedContexts: groups.length, forwardTokens };
}

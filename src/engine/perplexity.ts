import { PolyPruneError } from '../common/errors';
import type { ProgressCallback } from '../common/progress';
import { scorePerplexity } from '../eval/perplexity';
import { Pacer } from '../common/pace';
import { checkTokenIds, type TextTokenizer } from '../io/tokenizer';
import { checkTextContent } from '../common/text';
import type { SequenceScorer } from '../eval/types';
import type { LlamaModel } from '../model/llama';
import type { PerplexityRequest, PerplexityResult } from './api';
import type { LoadedModel } from './loaded';

const pacers = new WeakMap<LlamaModel, Pacer>();

/**
 * The model's Pacer (src/common/pace.ts): scorer calls of about half a second each, so Cancel and the
 * progress counters act within seconds on any adapter; kept per model, so each cell starts at the
 * rate the previous one measured.
 */
export function pacerOf(model: LlamaModel): Pacer {
  let p = pacers.get(model);
  if (!p) pacers.set(model, (p = new Pacer(500)));
  return p;
}

/** The GPU model as the evaluation layer's scorer. */
export function gpuScorer(model: LlamaModel): SequenceScorer {
  return {
    maxContext: model.cfg.maxPositionEmbeddings,
    tokenNll: (seqs, signal) => model.tokenNll(seqs, { signal }),
    tokenNllShared: (groups, signal) => model.tokenNllShared(groups, { signal }),
  };
}

/** Tokens past a cut that are not trusted (the pieces at the cut may merge differently). */
const CUT_MARGIN = 64;

/**
 * The first `need` tokens of `text` without tokenizing all of it: growing prefixes (cut at a line
 * end or a space) until the prefix holds `need` + a margin of tokens, so a text of hundreds of MB
 * with --max-windows costs what its windows need.
 */
export function encodeStart(tok: Pick<TextTokenizer, 'encode'>, text: string, need: number): Int32Array {
  for (let chars = Math.max(4096, need * 8); chars < text.length; chars *= 2) {
    let cut = text.lastIndexOf('\n', chars);
    if (cut < chars / 2) cut = text.lastIndexOf(' ', chars);
    if (cut < chars / 2) cut = chars;
    const ids = tok.encode(text.slice(0, cut), { addSpecialTokens: false });
    if (ids.length >= need + CUT_MARGIN) return ids.slice(0, need);
  }
  return tok.encode(text, { addSpecialTokens: false }).slice(0, need);
}

/** Perplexity of text (tokenized once, without BOS) or of explicit windows. */
export async function computePerplexity(m: LoadedModel, req: PerplexityRequest, opts: { signal?: AbortSignal; onProgress?: ProgressCallback }): Promise<PerplexityResult> {
  const { seqlen } = req;
  if (!Number.isInteger(seqlen) || seqlen < 2) throw new PolyPruneError('BAD_ARGUMENT', `seqlen must be an integer >= 2 (got ${seqlen}).`);
  if (seqlen > m.cfg.maxPositionEmbeddings) {
    throw new PolyPruneError('BAD_ARGUMENT', `seqlen ${seqlen} is longer than the model's context (max_position_embeddings ${m.cfg.maxPositionEmbeddings}).`);
  }
  let streams: Int32Array[];
  const warnings: string[] = [];
  if (req.windows) {
    const { ids, n, seqlen: wl } = req.windows;
    if (ids.length !== n * wl) throw new PolyPruneError('BAD_ARGUMENT', `windows: ${ids.length} ids for ${n} windows of ${wl}.`);
    checkTokenIds(ids, m.cfg.vocabSize, req.textName ? `Token windows ${req.textName}` : 'Token windows');
    streams = Array.from({ length: n }, (_, i) => ids.slice(i * wl, (i + 1) * wl));
  } else if (typeof req.text === 'string') {
    checkTextContent(req.textName ?? 'text', req.text, { what: 'Text' });
    let ids: Int32Array;
    if (req.maxWindows) {
      const need = req.stride ? seqlen + (req.maxWindows - 1) * req.stride : req.maxWindows * seqlen;
      ids = encodeStart(m.tokenizer, req.text, need);
    } else ids = m.tokenizer.encode(req.text, { addSpecialTokens: false });
    if (ids.length === 0) throw new PolyPruneError('TOKENIZER_INVALID', `${req.textName ?? 'The text'}: this model's tokenizer turns it into no tokens at all; check that tokenizer.json belongs to the model (and, for WordPiece, that its vocabulary is a WordPiece one).`);
    streams = [ids];
    if (ids.length < seqlen) {
      warnings.push(`The text has only ${ids.length} tokens, fewer than one full window of ${seqlen}; the perplexity comes from ${Math.max(0, ids.length - 1)} predicted tokens of one short window. Give more text or a shorter sequence length for a comparable number.`);
    }
  } else {
    throw new PolyPruneError('BAD_ARGUMENT', 'perplexity needs `text` or `windows`.');
  }
  const r = await scorePerplexity(streams, gpuScorer(m.model), {
    language: req.language ?? 'text',
    seqLen: seqlen,
    mode: req.stride ? 'sliding' : 'chunks',
    stride: req.stride,
    tokenBytes: m.tokenizer.tokenByteLengths(),
    signal: opts.signal,
    onProgress: opts.onProgress,
    pace: pacerOf(m.model),
  });
  return { ...r, seqlen, stride: req.stride, ...(warnings.length ? { warnings } : {}) };
}

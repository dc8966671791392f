/**
 * Engine.generate: checks the request, tokenizes the prompt (BOS + the prompt's tokens), runs
 * src/model/generate.ts with the K/V cache and streams each token as a `token` progress event.
 */
import { PolyPruneError } from '../common/errors';
import type { ProgressCallback } from '../common/progress';
import { checkTokenIds } from '../io/tokenizer';
import { PyRandom } from '../calib/random';
import { generateTokens, resolveSampling } from '../model/generate';
import type { GenerateRequest, GenerateResult } from './api';
import type { LoadedModel } from './loaded';

/** The prompt's ids: explicit ids as given, else BOS + the text's tokens ('' = BOS only). */
export function promptIdsOf(m: LoadedModel, req: Pick<GenerateRequest, 'prompt' | 'promptIds'>): Int32Array {
  const V = m.cfg.vocabSize;
  if (req.promptIds) {
    if (req.promptIds.length < 1) throw new PolyPruneError('BAD_ARGUMENT', 'The prompt ids are empty: give at least one token id (e.g. the BOS token).');
    checkTokenIds(req.promptIds, V, 'prompt');
    return Int32Array.from(req.promptIds);
  }
  const text = req.prompt ?? '';
  const bos = m.summary.bosTokenId;
  const body = text ? m.tokenizer.encode(text, { addSpecialTokens: false }) : new Int32Array(0);
  if (bos === undefined && body.length === 0) {
    throw new PolyPruneError('BAD_ARGUMENT', `The prompt is empty and model '${m.summary.name}' has no BOS token to start from: give a prompt.`);
  }
  const ids = new Int32Array((bos === undefined ? 0 : 1) + body.length);
  if (bos !== undefined) ids[0] = bos;
  ids.set(body, bos === undefined ? 0 : 1);
  checkTokenIds(ids, V, 'prompt');
  return ids;
}

/** Text of `tokens` as it continues `prompt` (keeps the leading space a tokenizer drops at a start). */
function continuation(m: LoadedModel, prompt: Int32Array, tokens: ArrayLike<number>): string {
  const head = m.tokenizer.decode(prompt);
  const all = m.tokenizer.decode([...prompt, ...Array.from(tokens)]);
  return all.startsWith(head) ? all.slice(head.length) : m.tokenizer.decode(tokens);
}

export async function generate(m: LoadedModel, req: GenerateRequest, o: { signal?: AbortSignal; onProgress?: ProgressCallback } = {}): Promise<GenerateResult> {
  const ctx = m.cfg.maxPositionEmbeddings;
  const promptIds = promptIdsOf(m, req);
  const n = req.maxNewTokens;
  if (!Number.isInteger(n) || n < 1) throw new PolyPruneError('BAD_ARGUMENT', `Max new tokens ${String(n)} is out of range: give a whole number from 1 to ${Math.max(1, ctx - promptIds.length)} (the model's context of ${ctx} tokens minus the prompt's ${promptIds.length}).`);
  if (promptIds.length + n > ctx) {
    throw new PolyPruneError('BAD_ARGUMENT', promptIds.length >= ctx
      ? `The prompt has ${promptIds.length} tokens, which fills the model's context of ${ctx} tokens: give a shorter prompt.`
      : `Max new tokens ${n} is too many: the prompt's ${promptIds.length} tokens plus ${n} exceed the model's context of ${ctx} tokens; give at most ${ctx - promptIds.length}.`);
  }
  const sampling = resolveSampling({ temperature: req.temperature, topK: req.topK, topP: req.topP, seed: req.seed, repetitionPenalty: req.repetitionPenalty }, m.cfg.vocabSize);
  const stopAtEos = req.stopAtEos ?? true;
  const eos = new Set<number>(stopAtEos ? [...m.cfg.eosTokenIds, ...(m.tokenizer.eosTokenId === undefined ? [] : [m.tokenizer.eosTokenId])] : []);
  if (req.checkOnly) return { promptIds, tokens: new Int32Array(0), text: '', logprobs: [], stopReason: 'length', settings: { maxNewTokens: n, ...sampling, stopAtEos } };
  const sofar: number[] = [];
  let emitted = '';
  const out = await generateTokens(m.model, promptIds, new PyRandom(sampling.seed), {
    maxNewTokens: n,
    sampling,
    eos,
    signal: o.signal,
    onToken: (id, logprob, i) => {
      sofar.push(id);
      let text = '';
      if (!eos.has(id)) {
        // Hold back an incomplete UTF-8 sequence (byte-fallback tokens) until its last byte arrives.
        const now = continuation(m, promptIds, sofar).replace(/\uFFFD+$/, '');
        if (now.startsWith(emitted)) {
          text = now.slice(emitted.length);
          emitted = now;
        }
      }
      o.onProgress?.({ kind: 'token', token: id, text, logprob, done: i + 1, total: n });
    },
  });
  const body = out.stopReason === 'eos' ? out.tokens.subarray(0, out.tokens.length - 1) : out.tokens;
  return {
    promptIds,
    tokens: out.tokens,
    text: continuation(m, promptIds, body),
    logprobs: Array.from(out.logprobs),
    stopReason: out.stopReason,
    settings: { maxNewTokens: n, ...sampling, stopAtEos },
  };
}

/**
 * tokenizer.json / tokenizer_config.json through @huggingface/tokenizers, plus the per-token source
 * byte lengths that bits-per-byte needs.
 */
import { Tokenizer } from '@huggingface/tokenizers';
import { PolyPruneError } from '../common/errors';
import type { ModelFolder } from './source';

export interface EncodeOptions {
  /** Add the BOS/EOS tokens of the tokenizer's post-processor. Default true (as in transformers). */
  addSpecialTokens?: boolean;
}

export interface TextTokenizer {
  encode(text: string, opts?: EncodeOptions): Int32Array;
  /** Token ids back to text; special tokens are kept. */
  decode(ids: ArrayLike<number>): string;
  /** Highest token id + 1. */
  readonly vocabSize: number;
  readonly bosTokenId?: number;
  readonly eosTokenId?: number;
  /** UTF-8 bytes of the tokenizer.json it was built from (a load's host memory is estimated from it: src/prune/plan.ts). */
  readonly jsonBytes?: number;
  /**
   * Per token id, how many UTF-8 bytes of the source text the token covers: byte-fallback `<0xXX>`
   * tokens 1, `▁` one byte (a space), byte-level BPE (GPT-2 `Ġ` alphabet) one byte per character,
   * special tokens and unk 0. Cached; do not modify.
   */
  tokenByteLengths(): Uint32Array;
}

function invalid(source: string, message: string, cause?: unknown): PolyPruneError {
  return new PolyPruneError('TOKENIZER_INVALID', `${source}: ${message}`, cause === undefined ? undefined : { cause });
}

function parseJsonObject(text: string, source: string): Record<string, unknown> {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw invalid(source, `not valid JSON (${(e as Error).message}). Use the tokenizer.json of a Hugging Face model (the "fast" tokenizer file).`, e);
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw invalid(source, 'expected a JSON object.');
  }
  return json as Record<string, unknown>;
}

/** True if `node` or any nested Sequence member has `type: 'ByteLevel'`. */
function hasByteLevel(node: unknown): boolean {
  if (typeof node !== 'object' || node === null) return false;
  const n = node as Record<string, unknown>;
  if (n.type === 'ByteLevel') return true;
  for (const key of ['pretokenizers', 'decoders', 'processors']) {
    const list = n[key];
    if (Array.isArray(list) && list.some(hasByteLevel)) return true;
  }
  return false;
}

/** GPT-2's reversible byte -> printable character table, inverted (character -> byte). */
function unicodeToByte(): Map<string, number> {
  const printable = (b: number): boolean => (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
  const map = new Map<string, number>();
  let next = 0;
  for (let b = 0; b < 256; b++) {
    const cp = printable(b) ? b : 256 + next++;
    map.set(String.fromCodePoint(cp), b);
  }
  return map;
}

function tokenName(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  if (typeof v === 'object' && v !== null && typeof (v as { content?: unknown }).content === 'string') {
    return (v as { content: string }).content;
  }
  return undefined;
}

const BYTE_TOKEN = /^<0x[0-9A-Fa-f]{2}>$/;

/** Bytes of `s` as UTF-8 (a lone surrogate counts as the 3 bytes of U+FFFD), without encoding it. */
function utf8Length(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      n += 4;
      i++;
    } else n += 3;
  }
  return n;
}

const fmtId = (v: unknown): string => (typeof v === 'string' ? `'${v}'` : JSON.stringify(v) ?? String(v));

/**
 * Every id the tokenizer can emit, checked before it is built: vocabulary ids (BPE, WordPiece,
 * WordLevel maps; Unigram ids are list positions), added-token ids, and the result of every BPE
 * merge (it must be a vocabulary piece, or the merge would emit an id the model does not have).
 * Ids must be whole numbers >= 0; the caller compares the largest with vocab_size.
 */
function checkEmittableIds(json: Record<string, unknown>, model: Record<string, unknown>, source: string): void {
  const bad = (what: string, id: unknown): PolyPruneError =>
    invalid(source, `${what} has id ${fmtId(id)}; token ids must be whole numbers from 0 up (they index the model's embedding table). The file is damaged or hand-edited; use the tokenizer.json published with the model.`);
  const vocab = model.vocab;
  let pieces: Set<string> | null = null;
  if (vocab && typeof vocab === 'object' && !Array.isArray(vocab)) {
    pieces = new Set();
    for (const [piece, id] of Object.entries(vocab as Record<string, unknown>)) {
      if (!(typeof id === 'number' && Number.isInteger(id) && id >= 0)) throw bad(`vocabulary piece '${piece}'`, id);
      pieces.add(piece);
    }
  } else if (Array.isArray(vocab)) {
    for (const [i, e] of vocab.entries()) {
      if (!Array.isArray(e) || typeof e[0] !== 'string') throw invalid(source, `vocabulary entry ${i} is not a [piece, score] pair.`);
    }
  }
  for (const t of (json.added_tokens ?? []) as unknown[]) {
    const tt = (t ?? {}) as { id?: unknown; content?: unknown };
    if (!(typeof tt.id === 'number' && Number.isInteger(tt.id) && tt.id >= 0)) throw bad(`added token ${typeof tt.content === 'string' ? `'${tt.content}'` : fmtId(tt.content)}`, tt.id);
  }
  if (model.type === 'BPE' && pieces && Array.isArray(model.merges)) {
    for (const [i, m] of (model.merges as unknown[]).entries()) {
      const pair = typeof m === 'string' ? m.split(' ') : Array.isArray(m) ? m : null;
      if (!pair || pair.length !== 2 || typeof pair[0] !== 'string' || typeof pair[1] !== 'string') throw invalid(source, `merge ${i} (${fmtId(m)}) is not a pair of pieces.`);
      const merged = pair[0] + pair[1];
      if (!pieces.has(merged)) throw invalid(source, `merge ${i} ('${pair[0]}' + '${pair[1]}') makes '${merged}', which is not in the vocabulary, so it has no token id. The file is damaged or mixes two tokenizers; use the tokenizer.json published with the model.`);
    }
  }
  if (model.type === 'WordPiece' && pieces) {
    const unk = typeof model.unk_token === 'string' ? model.unk_token : '[UNK]';
    if (!pieces.has(unk)) {
      const bpeLike = [...pieces].slice(0, 2000).filter((p) => p.startsWith('\u0120') || p.startsWith('\u2581')).length;
      throw invalid(
        source,
        `the WordPiece model's unk_token '${unk}' is not in its vocabulary${bpeLike ? ` and the vocabulary looks like a BPE/SentencePiece one (pieces starting with 'Ġ' or '▁')` : ''}: every unknown word would have no token. Check "model": {"type": ...} — the vocabulary and the model type do not match.`,
      );
    }
  }
}

/**
 * Builds a tokenizer from the text of tokenizer.json (and optionally tokenizer_config.json, which
 * supplies bos/eos tokens and decode options). Bad JSON or an unsupported tokenizer ->
 * TOKENIZER_INVALID.
 */
export function loadTokenizer(tokenizerJsonText: string, tokenizerConfigText?: string, source = 'tokenizer.json'): TextTokenizer {
  const json = parseJsonObject(tokenizerJsonText, source);
  const config = tokenizerConfigText === undefined ? {} : parseJsonObject(tokenizerConfigText, 'tokenizer_config.json');
  const model = json.model;
  if (typeof model !== 'object' || model === null) {
    throw invalid('tokenizer.json', 'has no "model" object; it is not a Hugging Face tokenizers file.');
  }
  if (json.added_tokens !== undefined && !Array.isArray(json.added_tokens)) {
    throw invalid('tokenizer.json', '"added_tokens" must be an array.');
  }
  checkEmittableIds(json, model as Record<string, unknown>, source);
  let tok: Tokenizer;
  try {
    tok = new Tokenizer({ ...json, added_tokens: json.added_tokens ?? [] }, config);
  } catch (e) {
    throw invalid('tokenizer.json', `cannot be loaded: ${(e as Error).message}`, e);
  }

  const m = model as Record<string, unknown>;
  const special = new Set<number>();
  for (const t of (json.added_tokens ?? []) as { id?: unknown; special?: unknown }[]) {
    if (t.special === true && typeof t.id === 'number') special.add(t.id);
  }
  const vocab = tok.get_vocab(true);
  let vocabSize = 0;
  for (const id of vocab.values()) vocabSize = Math.max(vocabSize, id + 1);

  const idOf = (v: unknown): number | undefined => {
    const name = tokenName(v);
    return name === undefined ? undefined : tok.token_to_id(name);
  };
  const cleanUp = config.clean_up_tokenization_spaces === true;
  let byteLengths: Uint32Array | null = null;

  return {
    vocabSize,
    jsonBytes: utf8Length(tokenizerJsonText),
    bosTokenId: idOf(config.bos_token),
    eosTokenId: idOf(config.eos_token),
    encode(text, opts) {
      const enc = tok.encode(text, { add_special_tokens: opts?.addSpecialTokens ?? true });
      return Int32Array.from(enc.ids);
    },
    decode(ids) {
      if (ids.length === 0) return '';
      return tok.decode(Array.from(ids), { skip_special_tokens: false, clean_up_tokenization_spaces: cleanUp });
    },
    tokenByteLengths() {
      if (byteLengths) return byteLengths;
      const out = new Uint32Array(vocabSize);
      const enc = new TextEncoder();
      const unk = typeof m.unk_token === 'string' ? tok.token_to_id(m.unk_token) : undefined;
      const byteLevel = hasByteLevel(json.pre_tokenizer) || hasByteLevel(json.decoder);
      const charToByte = byteLevel ? unicodeToByte() : null;
      const byteFallback = m.byte_fallback === true;
      const prefix = typeof m.continuing_subword_prefix === 'string' ? m.continuing_subword_prefix : '';
      const suffix = typeof m.end_of_word_suffix === 'string' ? m.end_of_word_suffix : '';
      const added = tok.get_added_tokens_decoder();
      for (let id = 0; id < vocabSize; id++) {
        const piece = tok.id_to_token(id);
        if (piece === undefined || special.has(id) || id === unk) continue;
        if (added.has(id)) {
          out[id] = enc.encode(piece).length; // a non-special added token matches its literal text
          continue;
        }
        if (charToByte) {
          let n = 0;
          for (const ch of piece) n += charToByte.has(ch) ? 1 : enc.encode(ch).length;
          out[id] = n;
          continue;
        }
        if (byteFallback && BYTE_TOKEN.test(piece)) {
          out[id] = 1;
          continue;
        }
        let p = piece;
        if (prefix && p.startsWith(prefix)) p = p.slice(prefix.length);
        if (suffix && p.endsWith(suffix)) p = `${p.slice(0, p.length - suffix.length)} `;
        out[id] = enc.encode(p.replaceAll('\u2581', ' ')).length;
      }
      byteLengths = out;
      return out;
    },
  };
}

/** Loads tokenizer.json (required) and tokenizer_config.json (if present) from a model folder. */
export async function loadTokenizerFromFolder(folder: ModelFolder): Promise<TextTokenizer> {
  const jsonText = await folder.readText('tokenizer.json');
  const configText = (await folder.exists('tokenizer_config.json')) ? await folder.readText('tokenizer_config.json') : undefined;
  return loadTokenizer(jsonText, configText, `${folder.location.replace(/\/+$/, '')}/tokenizer.json`);
}

/**
 * The one check for token ids, however they come in (text tokenized here, explicit windows, calibration
 * token files): every id must index the model's embedding table, 0 <= id < vocabSize.
 */
export function checkTokenIds(ids: ArrayLike<number>, vocabSize: number, what: string): void {
  for (let i = 0; i < ids.length; i++) {
    const id = ids[i];
    if (!(Number.isInteger(id) && id >= 0 && id < vocabSize)) {
      throw new PolyPruneError(
        'BAD_ARGUMENT',
        `${what}: token id ${id} at position ${i} is outside the vocabulary (0..${vocabSize - 1}) of this model; were the ids made with its tokenizer?`,
      );
    }
  }
}

/**
 * Refuses a tokenizer that can produce ids the model has no embedding for (a tokenizer of another
 * model). A tokenizer with fewer ids than vocab_size is fine (padded embedding tables are common).
 */
export function checkTokenizerFits(tok: Pick<TextTokenizer, 'vocabSize'>, vocabSize: number, location: string): void {
  if (tok.vocabSize > vocabSize) {
    throw new PolyPruneError(
      'TOKENIZER_INVALID',
      `The tokenizer in ${location} has ${tok.vocabSize} token ids, but config.json's vocab_size is ${vocabSize}: ids ${vocabSize}..${tok.vocabSize - 1} have no embedding, so every score would be meaningless. Use the tokenizer.json published with these weights.`,
    );
  }
}

/**
 * Test helpers for src/eval: the stories260K fixture tokenizer (through @huggingface/tokenizers
 * directly), a scorer on the plain-TS reference forward, an independent log-likelihood computed
 * straight from cpuLogits, and a deterministic fake scorer for unit tests.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Tokenizer } from '@huggingface/tokenizers';
import { cpuLogits, cpuTokenNll, type CpuModel } from '../../src/model/reference';
import type { EvalTokenizer, SequenceScorer } from '../../src/eval/types';
import { FIXTURE, fixtureCpuModel, requireShared, SHARED } from '../helpers/fixture';

export { FIXTURE, SHARED };

export function sharedText(rel: string): string {
  return readFileSync(requireShared(path.join(SHARED, rel)), 'utf8');
}

export interface FixtureTokenizer extends EvalTokenizer {
  encode(text: string, opts?: { addSpecialTokens?: boolean }): Int32Array;
  pieces(ids: ArrayLike<number>): string[];
  /** Raw tokenizer.json, for tests that need the vocabulary. */
  json: { model: { vocab: Record<string, number> }; added_tokens: { id: number; content: string }[] };
}

export function fixtureTokenizer(): FixtureTokenizer {
  const tokText = readFileSync(requireShared(path.join(FIXTURE, 'tokenizer.json')), 'utf8');
  const cfgText = readFileSync(requireShared(path.join(FIXTURE, 'tokenizer_config.json')), 'utf8');
  const json = JSON.parse(tokText);
  const tok = new Tokenizer(json, JSON.parse(cfgText));
  const byId = new Map<number, string>(Object.entries(json.model.vocab as Record<string, number>).map(([p, id]) => [id, p]));
  return {
    encode: (text, opts) => Int32Array.from(tok.encode(text, { add_special_tokens: opts?.addSpecialTokens ?? true }).ids),
    bosTokenId: 1,
    eosTokenId: 2,
    pieces: (ids) => Array.from(ids, (id) => byId.get(id) ?? `#${id}`),
    json,
  };
}

let model: Promise<CpuModel> | undefined;
export function fixtureModel(): Promise<CpuModel> {
  model ??= fixtureCpuModel();
  return model;
}

/** SequenceScorer on the reference forward; records every call's sequence lengths. */
export function cpuScorer(m: CpuModel, maxContext: number): SequenceScorer & { calls: number[][] } {
  const calls: number[][] = [];
  return {
    maxContext,
    calls,
    async tokenNll(seqs) {
      calls.push(seqs.map((s) => s.length));
      for (const s of seqs) if (s.length > maxContext + 1) throw new Error(`sequence of ${s.length} tokens > maxContext + 1`);
      return seqs.map((s) => Float32Array.from(cpuTokenNll(m, s)));
    },
  };
}

/**
 * log p(cont | ctx) computed directly from cpuLogits with a float64 log-softmax, without any of
 * src/eval: run the model on ctx ++ cont (already cut by the caller) and sum the target log-probs of
 * the last cont.length tokens.
 */
export function referenceLogLikelihood(m: CpuModel, ctx: readonly number[], cont: readonly number[]): number {
  const ids = Int32Array.from([...ctx, ...cont]);
  const V = m.dims.vocabSize;
  const logits = cpuLogits(m, ids);
  let ll = 0;
  for (let k = 0; k < cont.length; k++) {
    const pos = ctx.length + k; // token being predicted
    const row = pos - 1;
    let mx = -Infinity;
    for (let v = 0; v < V; v++) mx = Math.max(mx, logits[row * V + v]);
    let z = 0;
    for (let v = 0; v < V; v++) z += Math.exp(logits[row * V + v] - mx);
    ll += logits[row * V + ids[pos]] - mx - Math.log(z);
  }
  return ll;
}

/** Deterministic fake: NLL of token t after token p is ((p * 31 + t * 17) % 97) / 10 + 0.05. */
export function bigramNll(p: number, t: number): number {
  return ((((p * 31 + t * 17) % 97) + 97) % 97) / 10 + 0.05;
}

export function fakeScorer(maxContext: number): SequenceScorer & { calls: Int32Array[][] } {
  const calls: Int32Array[][] = [];
  return {
    maxContext,
    calls,
    async tokenNll(seqs) {
      calls.push(seqs);
      return seqs.map((s) => {
        const out = new Float32Array(s.length - 1);
        for (let j = 0; j + 1 < s.length; j++) out[j] = bigramNll(s[j], s[j + 1]);
        return out;
      });
    },
  };
}

/** fakeScorer that also offers context sharing (tokenNllShared), recording each group it is given. */
export function sharingFakeScorer(maxContext: number): ReturnType<typeof fakeScorer> & { groups: { prefix: number[]; suffixes: number[][] }[][] } {
  const base = fakeScorer(maxContext);
  const groups: { prefix: number[]; suffixes: number[][] }[][] = [];
  return {
    ...base,
    groups,
    async tokenNllShared(gs) {
      groups.push(gs.map((g) => ({ prefix: Array.from(g.prefix), suffixes: g.suffixes.map((x) => Array.from(x)) })));
      return gs.map((g) =>
        g.suffixes.map((sfx) => {
          const out = new Float32Array(sfx.length);
          for (let j = 0; j < sfx.length; j++) out[j] = bigramNll(j === 0 ? g.prefix[g.prefix.length - 1] : sfx[j - 1], sfx[j]);
          return out;
        }),
      );
    },
  };
}

/** A character-level tokenizer for unit tests: one token per UTF-16 unit, BOS 1, EOS 2. */
export function charTokenizer(): EvalTokenizer & { encode(text: string, opts?: { addSpecialTokens?: boolean }): Int32Array } {
  return {
    encode: (text, opts) => {
      const ids = Array.from(text, (c) => 3 + (c.codePointAt(0)! % 500));
      return Int32Array.from(opts?.addSpecialTokens ? [1, ...ids] : ids);
    },
    bosTokenId: 1,
    eosTokenId: 2,
  };
}

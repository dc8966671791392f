import { describe, expect, it } from 'vitest';
import { computeLoglikelihoods, encodePair, prepareSequence, resolvePrefixToken } from '../../src/eval/loglikelihood';
import { bigramNll, charTokenizer, cpuScorer, fakeScorer, fixtureModel, fixtureTokenizer, referenceLogLikelihood, sharingFakeScorer } from './helpers';

describe('encodePair (lm-eval _encode_pair)', () => {
  const tok = fixtureTokenizer();

  it('moves trailing whitespace of the context to the continuation and splits whole = encode(ctx + cont)', () => {
    const a = encodePair(tok, 'One day, a girl ', 'found a bug.');
    const b = encodePair(tok, 'One day, a girl', ' found a bug.');
    expect(Array.from(a.context)).toEqual(Array.from(b.context));
    expect(Array.from(a.continuation)).toEqual(Array.from(b.continuation));
    expect(Array.from(a.context)).toEqual(Array.from(tok.encode('One day, a girl', { addSpecialTokens: false })));
    const whole = tok.encode('One day, a girl found a bug.', { addSpecialTokens: false });
    expect(Array.from(a.continuation)).toEqual(Array.from(whole.slice(a.context.length)));
    // No BOS by default (lm-eval tok_encode for causal LMs uses add_special_tokens=False).
    expect(a.context[0]).not.toBe(1);
  });

  it('uses the prefix token (BOS, else EOS) as the context of an empty-context request', () => {
    const e = encodePair(tok, '', ' the author laughs');
    expect(Array.from(e.context)).toEqual([1]);
    expect(Array.from(e.continuation)).toEqual(Array.from(tok.encode(' the author laughs', { addSpecialTokens: false })));
    expect(resolvePrefixToken({ encode: () => [], eosTokenId: 7 })).toBe(7);
    expect(() => resolvePrefixToken({ encode: () => [] })).toThrow(/BOS or EOS token/);
    expect(Array.from(encodePair(tok, '', 'x', { prefixTokenId: 2 }).context)).toEqual([2]);
    // A whitespace-only context becomes empty after the move.
    const w = encodePair(tok, '  ', 'hi');
    expect(Array.from(w.context)).toEqual([1]);
    expect(Array.from(w.continuation)).toEqual(Array.from(tok.encode('  hi', { addSpecialTokens: false })));
  });

  it('adds special tokens when asked (lm-eval add_bos_token=True)', () => {
    const e = encodePair(tok, 'Hello', ' world', { addSpecialTokens: true });
    expect(e.context[0]).toBe(1);
    expect(Array.from(e.continuation)).toEqual(Array.from(encodePair(tok, 'Hello', ' world').continuation));
  });

  it('cuts sequences from the left to maxContext + 1 tokens and flags them', () => {
    const pair = { context: Int32Array.from([5, 6, 7, 8, 9]), continuation: Int32Array.from([10, 11]) };
    const p = prepareSequence(pair, 4);
    expect(Array.from(p.tokens)).toEqual([7, 8, 9, 10, 11]);
    expect(p.scored).toBe(2);
    expect(p.truncated).toBe(true);
    const q = prepareSequence(pair, 6);
    expect(Array.from(q.tokens)).toEqual([5, 6, 7, 8, 9, 10, 11]);
    expect(q.truncated).toBe(false);
    // A continuation longer than the window: only the tokens with a prefix inside the window count.
    const r = prepareSequence({ context: Int32Array.of(1), continuation: Int32Array.from([3, 4, 5, 6, 7]) }, 3);
    expect(Array.from(r.tokens)).toEqual([4, 5, 6, 7]);
    expect(r.scored).toBe(3);
  });
});

describe('computeLoglikelihoods', () => {
  it('sums -NLL over the continuation tokens, dedupes identical sequences, batches longest first', async () => {
    const tok = charTokenizer();
    const scorer = fakeScorer(64);
    const reqs = [
      { context: 'abc', continuation: ' de' },
      { context: 'abc ', continuation: 'de' }, // same tokens after the whitespace move
      { context: 'abc', continuation: ' xyz!' },
      { context: '', continuation: 'q' },
    ];
    const run = await computeLoglikelihoods(reqs, tok, scorer, { batchTokens: 12 });
    expect(run.sequences).toBe(3);
    expect(run.truncated).toBe(0);
    const want = (ids: number[], cont: number) => {
      let s = 0;
      for (let j = ids.length - cont; j < ids.length; j++) s -= bigramNll(ids[j - 1], ids[j]);
      return s;
    };
    const enc = (s: string) => Array.from(tok.encode(s));
    expect(run.results[0].logLikelihood).toBeCloseTo(want(enc('abc de'), 3), 5);
    expect(run.results[1].logLikelihood).toBe(run.results[0].logLikelihood);
    expect(run.results[2].logLikelihood).toBeCloseTo(want(enc('abc xyz!'), 5), 5);
    expect(run.results[3].logLikelihood).toBeCloseTo(want([1, ...enc('q')], 1), 5);
    expect(run.results.map((r) => r.tokens)).toEqual([3, 3, 5, 1]);
    // Longest first, and no call exceeds 12 padded tokens (8-token sequence alone, then 6 + 2).
    expect(scorer.calls.map((c) => c.map((s) => s.length))).toEqual([[8], [6, 2]]);
  });

  it('context sharing: choices after the same context go to tokenNllShared as one group, with the same results', async () => {
    const tok = charTokenizer();
    const reqs = [
      { context: 'abc', continuation: ' de' },
      { context: 'abc', continuation: ' xyz!' },
      { context: 'abc ', continuation: 'de' }, // the same sequence as request 0: deduplicated
      { context: 'hello', continuation: ' w' },
      { context: 'hello', continuation: ' there' },
      { context: 'hello', continuation: ' you' },
      { context: 'q', continuation: ' r' }, // one-token context: nothing to share
      { context: 'q', continuation: ' s' },
      { context: 'lonely', continuation: ' one' }, // no other choice: runs whole
      { context: '', continuation: 'x' },
    ];
    const scorer = sharingFakeScorer(64);
    const shared = await computeLoglikelihoods(reqs, tok, scorer, { batchTokens: 24 });
    const plain = await computeLoglikelihoods(reqs, tok, fakeScorer(64));
    shared.results.forEach((r, i) => {
      expect(r.tokens).toBe(plain.results[i].tokens);
      expect(r.logLikelihood).toBeCloseTo(plain.results[i].logLikelihood, 5);
    });
    expect(shared.sharedContexts).toBe(2);
    expect(plain.sharedContexts).toBe(0);
    const enc = (s: string) => Array.from(tok.encode(s));
    // Two calls: 'hello' (5 + 2 + 6 + 4 = 17 tokens) fills the 24-token budget before 'abc' (3 + 3 + 5 = 11).
    expect(scorer.groups).toEqual([
      [{ prefix: enc('hello'), suffixes: [enc(' w'), enc(' there'), enc(' you')] }],
      [{ prefix: enc('abc'), suffixes: [enc(' de'), enc(' xyz!')] }],
    ]);
    // The rest whole: the one-token contexts, the lonely one and the empty context.
    expect(scorer.calls.flat().map((s) => s.length).sort((a, b) => a - b)).toEqual([2, 3, 3, 10]);
    // Tokens the model runs on (the last token of a sequence is only a target): each shared group
    // once (17 - 1, 11 - 1), then n - 1 per whole sequence.
    expect(shared.forwardTokens).toBe(16 + 10 + (2 + 2 + 9 + 1));
    expect(plain.forwardTokens).toBe(5 + 7 + 6 + 10 + 8 + 2 + 2 + 9 + 1);
    // Turned off: the same scorer is only asked for whole sequences.
    const off = sharingFakeScorer(64);
    const r = await computeLoglikelihoods(reqs, tok, off, { shareContext: false });
    expect(off.groups).toEqual([]);
    expect(r.results.map((x) => x.logLikelihood)).toEqual(plain.results.map((x) => x.logLikelihood));
  });

  it('counts truncated requests and reports zero-token continuations', async () => {
    const tok = charTokenizer();
    const run = await computeLoglikelihoods(
      [
        { context: 'abcdefghij', continuation: 'kl' },
        { context: 'ab', continuation: 'c' },
        { context: 'ab', continuation: '' },
      ],
      tok,
      fakeScorer(5),
    );
    expect(run.truncated).toBe(1);
    expect(run.results[0]).toMatchObject({ tokens: 2, truncated: true });
    expect(run.results[2]).toEqual({ logLikelihood: 0, tokens: 0, truncated: false });
  });

  it('stops when the signal is aborted', async () => {
    const ac = new AbortController();
    ac.abort();
    await expect(computeLoglikelihoods([{ context: 'a', continuation: 'b' }], charTokenizer(), fakeScorer(8), { signal: ac.signal })).rejects.toMatchObject({
      code: 'CANCELLED',
    });
  });

  it('matches log-likelihoods computed directly from cpuLogits on the stories260K fixture', async () => {
    const m = await fixtureModel();
    const tok = fixtureTokenizer();
    const scorer = cpuScorer(m, 24);
    const reqs = [
      { context: 'Once upon a time, there was a little girl named Lily.', continuation: ' She liked to play outside.' },
      { context: 'The dog ran to the park', continuation: ' and played with a ball.' },
      { context: '', continuation: ' the author laughs' },
    ];
    const run = await computeLoglikelihoods(reqs, tok, scorer);
    const enc = (s: string) => Array.from(tok.encode(s, { addSpecialTokens: false }));
    // Request 0: 'Once upon ... Lily.' + ' She liked ...' is longer than 25 tokens -> cut from the left by hand.
    const ctx0 = enc(reqs[0].context);
    const cont0 = enc(reqs[0].context + reqs[0].continuation).slice(ctx0.length);
    const all0 = [...ctx0, ...cont0].slice(-25);
    expect(all0.length).toBe(25);
    const exp0 = referenceLogLikelihood(m, all0.slice(0, 25 - cont0.length), cont0);
    const ctx1 = enc(reqs[1].context);
    const cont1 = enc(reqs[1].context + reqs[1].continuation).slice(ctx1.length);
    const exp1 = referenceLogLikelihood(m, ctx1, cont1);
    const exp2 = referenceLogLikelihood(m, [1], enc(' the author laughs'));
    expect(run.truncated).toBe(1);
    expect(run.results[0].truncated).toBe(true);
    expect(run.results[0].logLikelihood).toBeCloseTo(exp0, 3);
    expect(run.results[1].logLikelihood).toBeCloseTo(exp1, 3);
    expect(run.results[2].logLikelihood).toBeCloseTo(exp2, 3);
    expect(exp1).toBeLessThan(0);
  });
});

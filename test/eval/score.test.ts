import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ProgressEvent } from '../../src/common/progress';
import { parseEvalRecord, toTaskRecord, type TaskResult } from '../../src/eval/results';
import { runTask } from '../../src/eval/run';
import { argmax, meanStderr, scoreMultipleChoice } from '../../src/eval/score';
import { parseTask } from '../../src/eval/tasks/index';
import type { CpuModel } from '../../src/model/reference';
import type { McItem, SequenceScorer, TaskName } from '../../src/eval/types';
import { charTokenizer, cpuScorer, fixtureModel, fixtureTokenizer, referenceLogLikelihood, sharedText, type FixtureTokenizer } from './helpers';

/** Every token costs NLL 1: log-likelihood = -(continuation tokens). */
const unitScorer: SequenceScorer = {
  maxContext: 1000,
  async tokenNll(seqs) {
    return seqs.map((s) => new Float32Array(s.length - 1).fill(1));
  },
};

describe('metrics', () => {
  it('mean_stderr is the sample standard deviation over sqrt(n), null below two items', () => {
    expect(meanStderr([1, 0, 1, 1])).toBeCloseTo(Math.sqrt((0.75 * 0.25) / 3), 12);
    expect(meanStderr([0.5, 1.5, 2.5])).toBeCloseTo(1 / Math.sqrt(3), 12);
    expect(meanStderr([1])).toBeNull();
    expect(meanStderr([])).toBeNull();
    expect(argmax([-3, -1, -1])).toBe(1); // first maximum, like np.argmax
  });

  it('acc, acc_norm (per character) and acc_bytes (per UTF-8 byte) can disagree as in lm-eval', async () => {
    const tok = charTokenizer();
    // ' aa' = 3 tokens (LL -3) vs ' b' = 2 tokens (LL -2): acc picks 'b'; per char -1.5 vs -2 picks 'aa'.
    const a: McItem = { id: 'a', requests: [{ context: 'x', continuation: ' aa' }, { context: 'x', continuation: ' b' }], choices: ['aa', 'b'], label: 0 };
    // ' é' (LL -2, 1 char, 2 bytes) vs ' ab' (LL -3, 2 chars, 2 bytes): per char picks 'ab', per byte picks 'é'.
    const b: McItem = { id: 'b', requests: [{ context: 'x', continuation: ' é' }, { context: 'x', continuation: ' ab' }], choices: ['é', 'ab'], label: 0 };
    const r = await scoreMultipleChoice({ task: 'jsonl', language: 'en' }, [a, b], tok, unitScorer, { perItem: true });
    expect(r.perItem!.map((p) => [p.pred, p.predNorm, p.predBytes])).toEqual([
      [1, 0, 0],
      [0, 1, 0],
    ]);
    expect(r.perItem![0].lls).toEqual([-3, -2]);
    expect([r.acc, r.acc_norm, r.acc_bytes]).toEqual([0.5, 0.5, 1]);
    expect(r.acc_stderr).toBeCloseTo(0.5, 12); // sqrt(0.25 / 1)
    expect(r.acc_bytes_stderr).toBe(0);
    expect(r.n).toBe(2);
  });

  it('applies limit, reports progress to done == total, drops items with empty continuations with a warning', async () => {
    const tok = charTokenizer();
    const mk = (id: string, conts: string[]): McItem => ({ id, requests: conts.map((c) => ({ context: 'q', continuation: c })), choices: conts, label: 0 });
    const events: ProgressEvent[] = [];
    const r = await scoreMultipleChoice({ task: 'jsonl', language: 'en', warnings: ['line 9: bad'] }, [mk('1', ['a', 'b']), mk('2', ['', 'b']), mk('3', ['c', 'd'])], tok, unitScorer, {
      limit: 2,
      onProgress: (e) => events.push(e),
    });
    expect(r.n).toBe(1);
    expect(r.warnings).toEqual(['line 9: bad', 'item 2: a continuation encodes to no tokens; item not scored.']);
    expect(r.perItem).toBeUndefined();
    const last = events[events.length - 1];
    expect(last).toMatchObject({ kind: 'eval', done: 2, total: 2 });
    await expect(scoreMultipleChoice({ task: 'jsonl', language: 'en' }, [], tok, unitScorer, { limit: 0 })).rejects.toThrow(/limit must be a positive integer/);
  });
});

/** Expected log-likelihood of one request, derived in the test from cpuLogits (lm-eval rules re-stated here). */
function expectedLl(m: CpuModel, tok: FixtureTokenizer, context: string, continuation: string, maxContext: number): { ll: number; truncated: boolean } {
  const enc = (s: string) => Array.from(tok.encode(s, { addSpecialTokens: false }));
  expect(context).toBe(context.trimEnd()); // no template here leaves trailing whitespace on the context
  let ctx: number[];
  let cont: number[];
  if (context === '') {
    ctx = [1];
    cont = enc(continuation);
  } else {
    ctx = enc(context);
    cont = enc(context + continuation).slice(ctx.length);
  }
  const all = [...ctx, ...cont];
  const kept = all.slice(-(maxContext + 1));
  return { ll: referenceLogLikelihood(m, kept.slice(0, kept.length - cont.length), cont), truncated: kept.length < all.length };
}

const INLINE: Partial<Record<TaskName, { language: string; text: string }>> = {
  xstorycloze: {
    language: 'en',
    text: JSON.stringify({
      input_sentence_1: 'Lily had a red ball.',
      input_sentence_2: 'She took it to the park.',
      input_sentence_3: 'The ball rolled away.',
      input_sentence_4: 'Lily ran after it.',
      sentence_quiz1: 'She found the ball under a tree.',
      sentence_quiz2: 'The sun ate the park.',
      answer_right_ending: 1,
    }),
  },
  xnli: { language: 'en', text: JSON.stringify({ premise: 'The dog was happy', hypothesis: 'the dog smiled.', label: 0 }) },
  pawsx: { language: 'en', text: 'id\tsentence1\tsentence2\tlabel\n1\tTom went home .\tTom walked home .\t1\n' },
  belebele: {
    language: 'eng_Latn',
    text: JSON.stringify({
      flores_passage: 'Tim had a cat. The cat was big.',
      question: 'What did Tim have?',
      mc_answer1: 'a dog',
      mc_answer2: 'a cat',
      mc_answer3: 'a car',
      mc_answer4: 'a hat',
      correct_answer_num: '2',
    }),
  },
  jsonl: { language: 'en', text: JSON.stringify({ context: 'The girl was', choices: ['happy.', 'a tree.'], label: 0 }) },
};

const REAL: Partial<Record<TaskName, { language: string; file: string }>> = {
  xcopa: { language: 'sw', file: 'data/tasks/xcopa/data/sw/test.sw.jsonl' },
  xwinograd: { language: 'en', file: 'data/tasks/xwinograd/xwinograd.en.jsonl' },
  clams: { language: 'en', file: 'data/tasks/clams/en_evalset/simple_agrmt.txt' },
};

function checkSane(r: TaskResult, n: number): void {
  expect(r.n).toBe(n);
  const acc = r.perItem!.map((p) => (p.pred === p.label ? 1 : 0));
  const p = acc.reduce<number>((a, b) => a + b, 0) / n;
  expect(r.acc).toBeCloseTo(p, 12);
  for (const v of [r.acc, r.acc_norm, r.acc_bytes]) expect(v >= 0 && v <= 1).toBe(true);
  // For 0/1 scores the sample stderr is sqrt(p (1 - p) / (n - 1)).
  expect(r.acc_stderr).toBeCloseTo(Math.sqrt((p * (1 - p)) / (n - 1)), 12);
  expect(parseEvalRecord(toTaskRecord(r))).toEqual(toTaskRecord(r));
}

describe('end to end on the stories260K fixture with the reference forward', () => {
  it('real data (XCOPA sw, XWinograd en, CLAMS en), --limit 4: log-likelihoods equal cpuLogits sums, counts and truncation', async () => {
    const m = await fixtureModel();
    const tok = fixtureTokenizer();
    let truncatedAll = 0;
    for (const [task, { language, file }] of Object.entries(REAL) as [TaskName, { language: string; file: string }][]) {
      const maxContext = 40;
      const scorer = cpuScorer(m, maxContext);
      const r = await runTask({ task, language, text: sharedText(file), tokenizer: tok, scorer, limit: 4, perItem: true });
      checkSane(r, 4);
      const items = parseTask(task, sharedText(file), { language }).items.slice(0, 4);
      let truncated = 0;
      items.forEach((it, k) => {
        it.requests.forEach((q, c) => {
          const e = expectedLl(m, tok, q.context, q.continuation, maxContext);
          if (e.truncated) truncated++;
          expect(r.perItem![k].lls[c], `${task} item ${k} choice ${c}`).toBeCloseTo(e.ll, 3);
        });
      });
      expect(r.truncated, task).toBe(truncated);
      expect(r.warnings.length).toBe(truncated > 0 ? 1 : 0);
      truncatedAll += truncated;
    }
    expect(truncatedAll).toBeGreaterThan(0); // the 40-token context cuts some XCOPA / XWinograd requests
  });

  it('every other format (XStoryCloze, XNLI, PAWS-X, Belebele, JSONL, UDHR): hand-computed log-likelihoods', async () => {
    const m = await fixtureModel();
    const tok = fixtureTokenizer();
    const udhr = readFileSync(path.resolve(process.cwd(), 'public/data/udhr/en.json'), 'utf8');
    const cases = [...(Object.entries(INLINE) as [TaskName, { language: string; text: string }][]), ['udhr', { language: 'en', text: udhr }] as [TaskName, { language: string; text: string }]];
    for (const [task, { language, text }] of cases) {
      const scorer = cpuScorer(m, 256);
      const r = await runTask({ task, language, text, tokenizer: tok, scorer, limit: 2, perItem: true });
      const items = parseTask(task, text, { language }).items.slice(0, 2);
      expect(r.n, task).toBe(items.length);
      expect(r.truncated, task).toBe(0);
      items.forEach((it, k) =>
        it.requests.forEach((q, c) => {
          expect(r.perItem![k].lls[c], `${task} item ${k} choice ${c}`).toBeCloseTo(expectedLl(m, tok, q.context, q.continuation, 256).ll, 3);
        }),
      );
      for (const v of [r.acc, r.acc_norm, r.acc_bytes]) expect(v >= 0 && v <= 1).toBe(true);
    }
  });

  it('scores 20 CLAMS pairs; the scorer sees each unique sequence once, longest first', async () => {
    const m = await fixtureModel();
    const tok = fixtureTokenizer();
    const scorer = cpuScorer(m, 64);
    const r = await runTask({ task: 'clams', language: 'en', text: sharedText('data/tasks/clams/en_evalset/simple_agrmt.txt'), tokenizer: tok, scorer, limit: 20, perItem: true });
    checkSane(r, 20);
    const lens = scorer.calls.flat();
    expect(lens.length).toBe(40);
    expect([...lens].sort((a, b) => b - a)).toEqual(lens);
  });
});

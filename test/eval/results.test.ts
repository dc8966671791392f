import { describe, expect, it } from 'vitest';
import { PolyPruneError } from '../../src/common/errors';
import { parseEvalRecord, toTaskRecord, type TaskResult } from '../../src/eval/results';

const task: TaskResult = {
  kind: 'task',
  task: 'xcopa',
  language: 'sw',
  n: 4,
  acc: 0.5,
  acc_stderr: 0.2886751345948129,
  acc_norm: 0.25,
  acc_norm_stderr: 0.25,
  acc_bytes: 0.75,
  acc_bytes_stderr: 0.25,
  truncated: 0,
  warnings: ['line 3: missing field ‘choice2’; skipped.'],
  perItem: [{ id: 'idx 0', label: 0, lls: [-3, -4], tokens: [3, 4], pred: 0, predNorm: 0, predBytes: 0 }],
};

describe('evaluation records', () => {
  it('round-trip through JSON (a share link or history entry) and drop per-item detail', () => {
    const rec = toTaskRecord(task);
    expect('perItem' in rec).toBe(false);
    expect(parseEvalRecord(JSON.parse(JSON.stringify(rec)))).toEqual(rec);
    const ppl = { kind: 'perplexity', language: 'de', ppl: 38.57, meanNll: 3.6525, bitsPerByte: 3.0387, tokens: 252, bytes: 437 };
    expect(parseEvalRecord(ppl)).toEqual(ppl);
    expect(parseEvalRecord({ ...ppl, bitsPerByte: null }).kind).toBe('perplexity');
    expect(parseEvalRecord({ ...rec, acc_stderr: null })).toMatchObject({ acc_stderr: null });
  });

  it('reject malformed records with BAD_ARGUMENT naming the field', () => {
    const bad: [unknown, RegExp][] = [
      [{ ...toTaskRecord(task), acc: 1.5 }, /at 'acc'/],
      [{ ...toTaskRecord(task), task: 'hellaswag' }, /at 'task'/],
      [{ kind: 'perplexity', language: 'en', ppl: 2, meanNll: 0.7, bitsPerByte: 1, tokens: -1, bytes: 3 }, /at 'tokens'/],
      [{ kind: 'perplexity', language: 'en', ppl: 2, meanNll: 0.7, bitsPerByte: 1, tokens: 3 }, /at 'bytes'/],
      [{ kind: 'mystery' }, /Invalid evaluation record/],
    ];
    for (const [value, re] of bad) {
      try {
        parseEvalRecord(value);
        throw new Error('accepted a bad record');
      } catch (e) {
        expect(e).toBeInstanceOf(PolyPruneError);
        expect((e as PolyPruneError).code).toBe('BAD_ARGUMENT');
        expect((e as Error).message).toMatch(re);
      }
    }
  });
});

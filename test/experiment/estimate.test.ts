/** The run estimate before a study runs (src/experiment/estimate.ts): steps and time from the plan and a measured rate; faster settings. */
import { describe, expect, it } from 'vitest';
import { describeEstimate, estimateStudy, fasterSettings, studyShapeOf, TOKENS_PER_TASK_ITEM, type StudyShape } from '../../src/experiment/estimate';

// The page's default study on the bundled model: 2 sources, 1 seed, 4 languages with a UDHR and two bundled tasks of 200 items.
const shape: StudyShape = {
  rows: 2,
  seeds: 1,
  method: 'wanda',
  calibrated: true,
  nsamples: 16,
  seqlen: 64,
  instant: false,
  confirm: false,
  columns: Array.from({ length: 4 }, () => ({ text: true, tasks: [200, 200, 200] })),
  evalWindows: 4,
  evalSeqlen: 64,
};

describe('estimateStudy', () => {
  it('counts the steps as the study does and divides their tokens by the rate', () => {
    const rate = 0.5; // tokens per ms: 500 tokens/s, a CPU adapter
    const e = estimateStudy(shape, rate);
    expect(e.steps).toEqual({ prune: 2, ppl: 12, task: 36, overlap: 0 });
    expect(e.stepMs.ppl).toBeCloseTo((4 * 64) / rate, 6);
    expect(e.stepMs.task).toBeCloseTo((200 * TOKENS_PER_TASK_ITEM) / rate, 6);
    expect(e.stepMs.prune).toBeCloseTo((16 * 64 * 2) / rate, 6);
    expect(e.totalMs).toBeCloseTo(2 * e.stepMs.prune + 12 * e.stepMs.ppl + 36 * e.stepMs.task, 6);
    // twice the rate, half the time
    expect(estimateStudy(shape, 2 * rate).totalMs).toBeCloseTo(e.totalMs / 2, 6);
  });

  it('hours on a slow adapter: the faster settings bring it under the target, cutting task items first', () => {
    const rate = 0.05; // 50 tokens/s
    expect(estimateStudy(shape, rate).totalMs).toBeGreaterThan(3_600_000);
    const f = fasterSettings(shape, rate, 15 * 60_000)!;
    expect(f.settings.taskLimit).toBeDefined();
    expect(Object.keys(f.settings)[0]).toBe('taskLimit');
    if (f.reached) expect(f.estimate.totalMs).toBeLessThanOrEqual(15 * 60_000);
    expect(f.estimate.totalMs).toBeLessThan(estimateStudy(shape, rate).totalMs / 4);
    expect(fasterSettings(shape, 100)).toBeNull();
  });
});

describe('studyShapeOf (the grid CLI)', () => {
  it('counts rows, seeds, columns, task limits and evaluation windows as runStudy will run them', () => {
    const text = { name: 'de.txt', text: 'x'.repeat(4 * 64 * 10) };
    const task = { label: 't', request: { task: 'xcopa', text: '', language: 'de' } } as never;
    const inputs = { sources: [{ label: 'a', texts: [] }, { label: 'b', texts: [] }], columns: [{ language: 'de', text, tasks: [task, task] }, { language: 'fr', tasks: [task] }] };
    const spec = { method: 'wanda' as const, sparsity: 0.5, nsamples: 8, seqlen: 64, seeds: [0, 1], evalSeqlen: 64, evalMaxWindows: 4, taskLimit: 50 };
    const p = studyShapeOf(spec, inputs, true);
    expect(p).toMatchObject({ rows: 2, seeds: 2, evalWindows: 4, columns: [{ text: true, tasks: [50, 50] }, { text: false, tasks: [50] }] });
    const e = estimateStudy(p, 10);
    expect(e.steps).toMatchObject({ prune: 4, ppl: 5, task: 15 });
    expect(describeEstimate(e, 10)).toMatch(/^about \d+ (s|min) on this adapter \(10,000 tokens\/s measured; 4 prunes, 5 perplexity and 15 task cells\)$/);
    // without a window limit: the text's length (about 4 bytes a token); without calibration: one row, one seed
    expect(studyShapeOf({ ...spec, evalMaxWindows: undefined }, inputs, false)).toMatchObject({ rows: 1, seeds: 1, evalWindows: 10 });
  });
});

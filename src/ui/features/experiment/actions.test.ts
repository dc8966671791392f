import { describe, expect, it } from 'vitest';
import type { ExperimentRun } from './experimentSlice';
import { experimentCsv, experimentTable, mean, patternProblem, spread } from './actions';
import { autoLoadWanted } from '../../store/actions/startup';
import { etaMs } from '../../components/OpProgress/OpProgress';

const run: ExperimentRun = {
  id: 1,
  modelName: 'm',
  settings: { method: 'wanda', pattern: { kind: 'unstructured', sparsity: 0.5 }, nsamples: 4, seqlen: 32, evalWindows: 2, seeds: [0, 1], evalLanguages: ['de', 'en'], taskLimit: null },
  rows: [
    { id: 'dense', label: 'dense', language: null, sparsity: [] },
    { id: 's1', label: 'notes, "de".txt', language: 'de', sparsity: [0.5, 0.5] },
  ],
  tasks: { de: [{ key: 'udhr', label: 'UDHR', task: 'udhr' }], en: [] },
  cells: {
    dense: { de: { ppl: [10], bpb: [1], tasks: { udhr: [{ acc: 0.5, stderr: 0.1, n: 20 }] } } },
    s1: { de: { ppl: [12, 14], bpb: [1.1, 1.3], tasks: { udhr: [{ acc: 0.4, stderr: 0.1, n: 20 }, null] } }, en: { ppl: [null, 20], bpb: [null, 2], tasks: {} } },
  },
  status: 'running',
  current: null,
  layerTraces: [],
  masks: [],
  record: null,
  startedAt: 0,
  elapsedMs: 0,
};

describe('experiment table', () => {
  it('has one row per measured (source, language, metric), with spread over seeds and change against dense', () => {
    const t = experimentTable(run);
    expect(t.map((r) => `${r.source}|${r.language}|${r.metric}`)).toEqual([
      'dense|de|perplexity',
      'dense|de|bits per byte',
      'dense|de|UDHR accuracy',
      'notes, "de".txt|de|perplexity',
      'notes, "de".txt|de|bits per byte',
      'notes, "de".txt|de|UDHR accuracy',
      'notes, "de".txt|en|perplexity',
      'notes, "de".txt|en|bits per byte',
    ]);
    const ppl = t[3];
    expect(ppl.value).toBe(13);
    expect(ppl.stderr).toBeCloseTo(Math.SQRT2, 10); // printed with twelve significant digits
    expect(ppl.change).toBe(3);
    expect(t[5]).toMatchObject({ value: 0.4, stderr: 0.1, seeds: 1 });
    expect(t[6]).toMatchObject({ value: 20, seeds: 1, stderr: null, change: null });
    const csv = experimentCsv(run).split('\n');
    expect(csv[0]).toBe('calibration_source,eval_language,metric,value,stderr_or_sd,seeds,change_vs_dense,masks');
    expect(csv[4]).toMatch(/^"notes, ""de"".txt",de,perplexity,13,1\.41.*,3,sequential$/);
    expect(csv[1]).toMatch(/,dense$/);
    expect(experimentTable({ ...run, rows: run.rows.map((r) => (r.id === 'dense' ? r : { ...r, mode: 'instant' })) }).map((r) => r.masks)).toEqual(['dense', 'dense', 'dense', 'instant', 'instant', 'instant', 'instant', 'instant']);
  });

  it('checks sparsity and N:M, averages without nulls, reads ?autoload and estimates time left', () => {
    expect(patternProblem({ kind: 'unstructured', sparsity: 0.5 })).toBeNull();
    expect(patternProblem({ kind: 'unstructured', sparsity: 1 })).toMatch(/between 0 and 1/);
    expect(patternProblem({ kind: 'unstructured', sparsity: NaN })).toMatch(/between 0 and 1/);
    expect(patternProblem({ kind: 'nm', n: 4, m: 4 })).toMatch(/smaller than M/);
    expect(mean([1, null, 3])).toBe(2);
    expect(mean([null])).toBeNull();
    expect(spread([2])).toBeNull();
    expect(autoLoadWanted('')).toBe(true);
    expect(autoLoadWanted('?test=1&autoload=0')).toBe(false);
    expect(autoLoadWanted('?autoload=no')).toBe(false);
    expect(etaMs(10_000, 0.25)).toBe(30_000);
    expect(etaMs(1000, 0.5)).toBeNull();
    expect(etaMs(10_000, null)).toBeNull();
  });
});

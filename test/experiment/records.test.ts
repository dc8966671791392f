import { describe, it, expect } from 'vitest';
import { deflateSync, strToU8 } from 'fflate';
import { parseResultRecord, recordHeader, meanSpread, sig, RECORD_VERSION, type ExperimentRecord, type ResultRecord } from '../../src/experiment/records';
import { LINEAR_NAMES } from '../../src/model/llama';

const hex = (k: number) => k.toString(16).padStart(2, '0').repeat(32);
const model = { source: 'models/polyprune-ml/', name: 'polyprune-ml', sha256: hex(1), modelType: 'llama', parameters: 6_500_000, layers: 6 };

/** A deterministic pseudo-random number in [0, 1). */
function rng(seed: number) {
  let s = seed;
  return () => ((s = (s * 1103515245 + 12345) % 2147483648) / 2147483648);
}

/** The study's full grid: 7 calibration languages x 7 evaluation languages, ppl + bpb + one task, 3 seeds. */
function bigExperiment(): ExperimentRecord {
  const r = rng(7);
  const langs = ['ar', 'de', 'en', 'es', 'ru', 'sw', 'zh'];
  const seeds = [0, 1, 2];
  const L = 6;
  const src = (l: string, k: number) => ({ name: `${l}.txt`, language: l, bytes: 25_000 + k, sha256: hex(10 + k) });
  const rows = [{ label: 'dense', sources: [], sparsity: [], recon: [] }, ...langs.map((l, k) => ({ label: l, sources: [src(l, k)], sparsity: seeds.map(() => sig(0.5 + r() * 1e-4, 6)), recon: seeds.map(() => Array.from({ length: L }, () => LINEAR_NAMES.map(() => sig(r() * 0.3, 4)))) }))];
  const columns = langs.map((l, k) => ({ language: l, text: src(l, 20 + k), tasks: [{ task: 'xcopa' as const, label: `xcopa_${l}`, file: src(l, 40 + k), n: 500 }] }));
  const cells = rows.map((_, ri) =>
    columns.map(() => {
      const S = ri === 0 ? 1 : 3;
      return {
        ppl: Array.from({ length: S }, () => sig(10 + r() * 90, 6)),
        bpb: Array.from({ length: S }, () => sig(1 + r(), 6)),
        acc: [Array.from({ length: S }, () => sig(Math.round(r() * 500) / 500, 6))],
        se: [Array.from({ length: S }, () => sig(0.02 + r() * 0.003, 6))],
      };
    }),
  );
  const iou = [];
  for (let a = 1; a < rows.length; a++) for (let b = a + 1; b < rows.length; b++) iou.push({ a, b, s: 0, v: Array.from({ length: L }, () => LINEAR_NAMES.map(() => sig(0.6 + r() * 0.3, 4))) });
  return {
    ...recordHeader(model, 'NVIDIA (test adapter)'),
    kind: 'experiment',
    spec: { method: 'wanda', sparsity: 0.5, nm: null, nsamples: 128, seqlen: 128, seeds, evalSeqlen: 128, evalMaxWindows: 32, taskLimit: null },
    matrices: [...LINEAR_NAMES],
    rows,
    columns,
    cells,
    iou,
    complete: true,
  };
}

const errorOf = (f: () => unknown, code = 'BAD_ARGUMENT'): string => {
  try {
    f();
  } catch (e) {
    expect((e as { code?: string }).code).toBe(code);
    return (e as Error).message;
  }
  throw new Error('expected an error');
};

describe('result record', () => {
  it('round-trips every kind through JSON', () => {
    const h = recordHeader(model, 'lavapipe');
    const src = { name: 'en.txt', language: 'en', bytes: 10, sha256: hex(3) };
    const records: ResultRecord[] = [
      { ...h, kind: 'perplexity', settings: { seqlen: 128, stride: null, maxWindows: 4 }, text: src, result: { language: 'en', ppl: 12.5, meanNll: Math.log(12.5), bpb: 1.1, tokens: 508, bytes: 2000, windows: 4 } },
      {
        ...h,
        kind: 'task',
        settings: { task: 'xcopa', language: 'it', limit: null },
        file: src,
        result: { kind: 'task', task: 'xcopa', language: 'it', n: 100, acc: 0.55, acc_stderr: 0.05, acc_norm: 0.5, acc_norm_stderr: 0.05, acc_bytes: 0.52, acc_bytes_stderr: 0.05, truncated: 0, warnings: [] },
      },
      { ...h, kind: 'prune', spec: { method: 'wanda', sparsity: 0.5, nm: { n: 2, m: 4 }, nsamples: 8, seqlen: 64, seed: 0 }, calibration: [src], overall: 0.5, matrices: [...LINEAR_NAMES], sparsity: [LINEAR_NAMES.map(() => 0.5)], recon: [LINEAR_NAMES.map(() => 0.01)] },
      bigExperiment(),
    ];
    for (const rec of records) {
      expect(parseResultRecord(JSON.parse(JSON.stringify(rec)))).toEqual(rec);
      expect(parseResultRecord(JSON.stringify(rec))).toEqual(rec);
    }
  });

  it('a 7 x 7 grid with ppl, bpb, one task and three seeds fits a 16 KB compressed link', () => {
    const json = JSON.stringify(bigExperiment());
    const packed = deflateSync(strToU8(json), { level: 9 });
    expect(packed.byteLength).toBeLessThan(16 * 1024);
  });

  it('rejects bad and newer records with one clear line', () => {
    const good = JSON.parse(JSON.stringify(bigExperiment()));
    expect(errorOf(() => parseResultRecord('{nope'))).toMatch(/not valid JSON/);
    expect(errorOf(() => parseResultRecord([1]))).toMatch(/expected a JSON object/);
    expect(errorOf(() => parseResultRecord({ ...good, format: 'other' }))).toMatch(/not a PolyPrune result/);
    expect(errorOf(() => parseResultRecord({ ...good, version: RECORD_VERSION + 1 }), 'RECORD_NEWER')).toMatch(/made by a newer PolyPrune \(record version 2; .* reads up to version 1\)/);
    expect(errorOf(() => parseResultRecord({ ...good, version: 'x' }))).toMatch(/no valid version/);
    expect(errorOf(() => parseResultRecord({ ...good, kind: 'mystery' }))).toMatch(/Invalid PolyPrune mystery result/);
    const nan = structuredClone(good);
    nan.cells[1][2].ppl[0] = NaN;
    expect(errorOf(() => parseResultRecord(nan))).toMatch(/cells\.1\.2\.ppl\.0/);
    const badHash = structuredClone(good);
    badHash.model.sha256 = 'session-42';
    expect(errorOf(() => parseResultRecord(badHash))).toMatch(/'model\.sha256': expected a SHA-256/);
    const short = structuredClone(good);
    short.cells[3][1].ppl.pop();
    expect(errorOf(() => parseResultRecord(short))).toMatch(/cell \[3\]\[1\] has 2 perplexities for 3 seed\(s\)/);
    const rows = structuredClone(good);
    rows.cells.pop();
    expect(errorOf(() => parseResultRecord(rows))).toMatch(/8 rows but 7 rows of cells/);
    const iou = structuredClone(good);
    iou.iou[0].b = 99;
    expect(errorOf(() => parseResultRecord(iou))).toMatch(/mask overlap refers to row/);
    const sp = structuredClone(good);
    sp.spec.sparsity = 1.5;
    expect(errorOf(() => parseResultRecord(sp))).toMatch(/spec\.sparsity/);
  });

  it('instant grid rows carry how their masks were made; the shape is checked', () => {
    const inst = JSON.parse(JSON.stringify(bigExperiment()));
    inst.spec.instant = true;
    inst.rows[1].mix = { mode: 'instant', weights: [1], windows: [128], updateMs: [12.5, 13, null] };
    inst.rows[2].mix = { mode: 'confirm', weights: [1], windows: [128], layerIou: [[1, 0.9, 0.8, 0.8, 0.7, 0.7], null, null] };
    expect(parseResultRecord(inst)).toEqual(inst);
    const w = structuredClone(inst);
    w.rows[1].mix.weights = [0.5, 0.5];
    expect(errorOf(() => parseResultRecord(w))).toMatch(/row 1 has mix weights or windows for 2 source\(s\), expected 1/);
    const t = structuredClone(inst);
    t.rows[1].mix.updateMs = [1];
    expect(errorOf(() => parseResultRecord(t))).toMatch(/row 1 has mix update times for 1 seed\(s\), expected 3/);
    const l = structuredClone(inst);
    l.rows[2].mix.layerIou = [null];
    expect(errorOf(() => parseResultRecord(l))).toMatch(/row 2 has per-layer IoU for 1 seed\(s\), expected 3/);
    const m = structuredClone(inst);
    m.rows[1].mix.mode = 'guess';
    expect(errorOf(() => parseResultRecord(m))).toMatch(/rows\.1\.mix\.mode/);
    const f = structuredClone(inst);
    f.spec.instant = false;
    expect(errorOf(() => parseResultRecord(f))).toMatch(/spec\.instant/);
  });

  it('a self-generated calibration source carries how it was written; the values are checked', () => {
    const rec = JSON.parse(JSON.stringify(bigExperiment()));
    rec.rows[2].sources[0] = { ...rec.rows[2].sources[0], name: 'gen:de', generated: { language: 'de', prompt: 'Das ist', windows: 16, tokens: 64, keep: 0.8, temperature: 0.8, topK: 50, topP: 0.95, repetitionPenalty: 1.1, seed: 0, model: hex(1) } };
    expect(parseResultRecord(rec)).toEqual(rec);
    const bos = structuredClone(rec);
    bos.rows[2].sources[0].generated.prompt = null;
    expect(parseResultRecord(bos)).toEqual(bos);
    const k = structuredClone(rec);
    k.rows[2].sources[0].generated.keep = 1.5;
    expect(errorOf(() => parseResultRecord(k))).toMatch(/rows\.2\.sources\.0\.generated\.keep/);
    const t = structuredClone(rec);
    t.rows[2].sources[0].generated.temperature = 0;
    expect(errorOf(() => parseResultRecord(t))).toMatch(/generated\.temperature/);
  });

  it('mean and spread over seeds skip what is not measured', () => {
    expect(meanSpread([null, null])).toBeNull();
    expect(meanSpread([2, null])).toEqual({ mean: 2, sd: null, n: 1 });
    const m = meanSpread([1, 2, 3])!;
    expect(m.mean).toBe(2);
    expect(m.sd).toBeCloseTo(1, 12);
    expect(sig(123.456789, 4)).toBe(123.5);
    expect(sig(null, 4)).toBeNull();
  });
});

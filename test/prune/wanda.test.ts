import { describe, it, expect, beforeAll } from 'vitest';
import type { Gpu } from '../../src/gpu/device';
import { LlamaModel, LINEAR_NAMES, type LinearName } from '../../src/model/llama';
import { pruneModel, type PruneModelOptions, type PruneReport } from '../../src/prune/run';
import { testGpu, expectClose } from '../helpers/gpu';
import { fixtureCheckpoint, fixtureModel, fixtureTensors, fixtureWindows, fixtureMetrics } from '../helpers/fixture';

let gpu: Gpu;
beforeAll(async () => {
  gpu = await testGpu();
});

const freshModel = (resident = true): Promise<LlamaModel> => fixtureModel(gpu, resident);

interface Run {
  report: PruneReport;
  weights: Map<string, Float32Array>;
  stats: Map<string, Float32Array>;
  model: LlamaModel;
}

async function run(opts: PruneModelOptions, calibFile: string | null, resident = true): Promise<Run> {
  const model = await freshModel(resident);
  const calib = calibFile ? await fixtureWindows(calibFile) : null;
  const weights = new Map<string, Float32Array>();
  const stats = new Map<string, Float32Array>();
  const report = await pruneModel(model, calib, {
    ...opts,
    onMatrixPruned: (i, name, w) => void weights.set(`model.layers.${i}.${name}.weight`, w),
    onStatistic: (i, name, v) => void stats.set(`scaler_row.${i}.${name}`, v),
  });
  return { report, weights, stats, model };
}

async function evalPpl(model: LlamaModel): Promise<number> {
  const { ids, n, seqlen } = await fixtureWindows('eval-en.safetensors');
  const nll = await model.tokenNll(Array.from({ length: n }, (_, i) => ids.slice(i * seqlen, (i + 1) * seqlen)));
  let s = 0;
  let c = 0;
  for (const w of nll) {
    for (const v of w) {
      s += v;
      c++;
    }
  }
  return Math.exp(s / c);
}

/** Compare a run with a fixture variant: masks, kept weights, zero counts, scaler_row, perplexity. */
async function checkVariant(variant: string, r: Run): Promise<void> {
  const ref = await fixtureTensors(`${variant}.safetensors`);
  const metrics = fixtureMetrics().variants[variant];
  const { ckpt } = await fixtureCheckpoint();
  let flips = 0;
  for (let i = 0; i < 5; i++) {
    for (const name of LINEAR_NAMES) {
      const t = `model.layers.${i}.${name}.weight`;
      const got = r.weights.get(t)!;
      const mask = await ref.readI32(`mask.${t}`);
      const want = await ref.readF32(t);
      const dense = await ckpt.readF32(t);
      let agree = 0;
      for (let e = 0; e < mask.length; e++) {
        if ((got[e] !== 0 ? 1 : 0) === mask[e]) agree++;
        if (got[e] !== 0 && got[e] !== dense[e]) throw new Error(`${t}[${e}]: kept weight changed`);
      }
      flips += mask.length - agree;
      expect(agree / mask.length, `${t} mask agreement`).toBeGreaterThanOrEqual(0.999);
      if (agree === mask.length) expect(got).toEqual(want);
      const m = r.report.perMatrix.find((p) => p.tensor === t)!;
      expect(m.zeros, `${t} zeros`).toBe(metrics.per_matrix[t].zeros);
      expect(m.numel).toBe(mask.length);
    }
  }
  expect(flips, 'mask flips over all matrices').toBe(0);
  expect(Math.abs(r.report.overall - metrics.overall_sparsity)).toBeLessThan(1e-9);
  const ppl = await evalPpl(r.model);
  const want = metrics.eval['eval-en'].ppl;
  expect(Math.abs(ppl - want) / want, `ppl ${ppl} vs ${want}`).toBeLessThan(0.01);
  expect(Math.abs(ppl - want) / want).toBeLessThan(1e-3); // observed: ~1e-5
  await ref.close();
}

async function checkStats(variant: string, r: Run): Promise<void> {
  const st = await fixtureTensors(`${variant}.stats.safetensors`);
  for (let i = 0; i < 5; i++) {
    for (const name of LINEAR_NAMES) {
      const key = `scaler_row.${i}.${name}`;
      expectClose(r.stats.get(key)!, await st.readF32(key), 0, 1e-5, key);
    }
  }
  await st.close();
}

describe('Wanda on stories260K against the reference (locuslab/wanda)', () => {
  for (const [variant, calib, opts] of [
    ['wanda-unstructured-0.5-en', 'calib-en.safetensors', { sparsity: 0.5 }],
    ['wanda-unstructured-0.5-de', 'calib-de.safetensors', { sparsity: 0.5 }],
    ['wanda-2of4-en', 'calib-en.safetensors', { nm: { n: 2, m: 4 } }],
  ] as const) {
    it(`${variant}: masks, weights, zero counts, in-run scaler_row, perplexity`, async () => {
      const r = await run({ method: 'wanda', ...opts }, calib);
      await checkStats(variant, r);
      await checkVariant(variant, r);
      if ('nm' in opts) {
        for (const m of r.report.perMatrix) {
          const w = r.weights.get(m.tensor)!;
          const K = m.shape[1];
          for (let e = 0; e < w.length; e += 4) {
            let kept = 0;
            for (let q = 0; q < 4; q++) if (w[e + q] !== 0) kept++;
            expect(kept, `${m.tensor} group at ${e} (row ${Math.floor(e / K)})`).toBe(2);
          }
        }
      }
      expect(r.report.timings.perLayerMs.length).toBe(5);
      expect(r.report.peakGpuBytes).toBeGreaterThan(0);
      r.model.destroy();
    });
  }

  it('layer 0 statistic equals the dense scaler_row of dense.safetensors', async () => {
    const model = await freshModel();
    const calib = await fixtureWindows('calib-en.safetensors');
    const got = new Map<string, Float32Array>();
    await pruneModel(model, calib, { method: 'wanda', sparsity: 0.5, onStatistic: (i, n, v) => void (i === 0 && got.set(n, v)) });
    const dense = await fixtureTensors('dense.safetensors');
    for (const n of LINEAR_NAMES) expectClose(got.get(n as LinearName)!, await dense.readF32(`scaler_row.0.${n}`), 0, 1e-5, n);
    model.destroy();
  });

  it('a streamed model (one layer on the GPU at a time) gives bitwise the same weights, in small chunks', async () => {
    const a = await run({ method: 'wanda', sparsity: 0.5 }, 'calib-en.safetensors', true);
    const b = await run({ method: 'wanda', sparsity: 0.5, maxChunkTokens: 192 }, 'calib-en.safetensors', false);
    for (const [t, w] of a.weights) expect(b.weights.get(t), t).toEqual(w);
    expect(b.report.perMatrix).toEqual(a.report.perMatrix);
    a.model.destroy();
    b.model.destroy();
  });
});

describe('magnitude on stories260K against the reference', () => {
  it('magnitude-unstructured-0.5: whole-matrix threshold, floor(numel*r)+1 zeros, perplexity', async () => {
    const r = await run({ method: 'magnitude', sparsity: 0.5 }, null);
    await checkVariant('magnitude-unstructured-0.5', r);
    r.model.destroy();
  });
});

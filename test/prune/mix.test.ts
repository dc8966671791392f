import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import type { Gpu } from '../../src/gpu/device';
import { LlamaModel, LINEAR_NAMES, linearShape, type LinearName } from '../../src/model/llama';
import { pruneModel } from '../../src/prune/run';
import { INPUT_GROUPS, collectDenseStats, freeDenseStats, mixCoefficients, mixedStatistic, mixPruneModel, normaliseWeights, refMixScaler, type DenseStats } from '../../src/prune/mix';
import { PolyPruneError } from '../../src/common/errors';
import { testGpu, expectClose } from '../helpers/gpu';
import { concatWindows, fixtureCheckpoint, fixtureModel, fixtureTensors, fixtureWindows } from '../helpers/fixture';

let gpu: Gpu;
let base: LlamaModel;
let stats: DenseStats;
let en: { ids: Int32Array; n: number; seqlen: number };
let de: { ids: Int32Array; n: number; seqlen: number };
let forwards = 0;

const freshModel = (resident = true): Promise<LlamaModel> => fixtureModel(gpu, resident);

/** The first `a` en windows, then the first `b` de windows. */
const concat = (a: number, b: number) => concatWindows(en, a, de, b);

/** The in-run statistic of the sequential reference prune on `calib`, per layer and linear. */
async function sequentialStats(calib: { ids: Int32Array; n: number; seqlen: number }): Promise<{ stats: Map<string, Float32Array>; weights: Map<string, Float32Array> }> {
  const model = await freshModel();
  const out = new Map<string, Float32Array>();
  const weights = new Map<string, Float32Array>();
  await pruneModel(model, calib, {
    method: 'wanda',
    sparsity: 0.5,
    onStatistic: (i, n, v) => void out.set(`${i}.${n}`, v),
    onMatrixPruned: (i, n, w) => void weights.set(`${i}.${n}`, w),
  });
  model.destroy();
  return { stats: out, weights };
}

async function mixed(layer: number, group: LinearName, counts: number[], weights: number[], s: DenseStats = stats): Promise<Float32Array> {
  const t = mixedStatistic(gpu, s, layer, group, mixCoefficients(counts, weights));
  const v = await gpu.readF32(t);
  t.destroy();
  return v;
}

beforeAll(async () => {
  gpu = await testGpu();
  base = await freshModel();
  en = await fixtureWindows('calib-en.safetensors');
  de = await fixtureWindows('calib-de.safetensors');
  const all = concat(en.n, de.n);
  stats = await collectDenseStats(base, all.ids, [en.n, de.n], all.seqlen, { maxChunkTokens: 320, onLayerForward: () => void forwards++ });
});

afterAll(() => {
  freeDenseStats(stats);
  base.destroy();
});

describe('calibration mixer: per-window dense statistics mixed with weights', () => {
  it('one pass: one forward per layer, the dense model unchanged', async () => {
    expect(forwards).toBe(base.cfg.numLayers);
    expect(stats.perWindow.length).toBe(base.cfg.numLayers);
    expect(stats.perWindow[0].get('mlp.down_proj')!.shape).toEqual([en.n + de.n, base.cfg.intermediateSize]);
  });

  it('weights equal to the window shares give bitwise the statistic of the concatenated windows (layer 0)', async () => {
    // 16 en + 16 de windows: shares 1/2, 1/2; also an uneven 5 en + 11 de set collected on its own
    const seq = await sequentialStats(concat(en.n, de.n));
    for (const g of INPUT_GROUPS) expect(await mixed(0, g.lead, [en.n, de.n], [0.5, 0.5]), g.lead).toEqual(seq.stats.get(`0.${g.lead}`));
    const part = concat(5, 11);
    const s2 = await collectDenseStats(base, part.ids, [5, 11], part.seqlen);
    try {
      const seq2 = await sequentialStats(part);
      for (const g of INPUT_GROUPS) expect(await mixed(0, g.lead, [5, 11], [5 / 16, 11 / 16], s2), g.lead).toEqual(seq2.stats.get(`0.${g.lead}`));
    } finally {
      freeDenseStats(s2);
    }
  });

  it('one source alone is bitwise the reference statistic of that source at layer 0, and the dense statistic of the reference at every layer', async () => {
    const seq = await sequentialStats(en);
    for (const g of INPUT_GROUPS) expect(await mixed(0, g.lead, [en.n, de.n], [1, 0]), g.lead).toEqual(seq.stats.get(`0.${g.lead}`));
    // dense.safetensors: the reference's scaler_row of the DENSE model on calib-en, every layer
    const dense = await fixtureTensors('dense.safetensors');
    for (let i = 0; i < base.cfg.numLayers; i++) {
      for (const g of INPUT_GROUPS) expectClose(await mixed(i, g.lead, [en.n, de.n], [1, 0]), await dense.readF32(`scaler_row.${i}.${g.lead}`), 0, 1e-5, `layer ${i} ${g.lead}`);
    }
    await dense.close();
  });

  it('any mix is sum_s w_s m_s (the GPU kernel against its f32 reference and against the mean of the per-source means)', async () => {
    for (const g of INPUT_GROUPS) {
      const v = await gpu.readF32(stats.perWindow[2].get(g.lead)!);
      const K = stats.perWindow[2].get(g.lead)!.shape[1];
      const mix = mixCoefficients([en.n, de.n], [0.7, 0.3]);
      const got = await mixed(2, g.lead, [en.n, de.n], [0.7, 0.3]);
      expectClose(got, refMixScaler(v, K, mix), 0, 2e-7, `kernel ${g.lead}`);
      const mEn = await mixed(2, g.lead, [en.n, de.n], [1, 0]);
      const mDe = await mixed(2, g.lead, [en.n, de.n], [0, 1]);
      expectClose(got, mEn.map((x, c) => 0.7 * x + 0.3 * mDe[c]), 0, 1e-5, `0.7 m_en + 0.3 m_de ${g.lead}`);
      // and it moves with the weights: the two sources' statistics differ
      expect(mEn).not.toEqual(mDe);
    }
  });

  it('re-masking keeps the sparsity at the target (unstructured and 2:4), the mask at layer 0 is the sequential one, and no forward pass runs', async () => {
    const slot = await freshModel();
    try {
      for (const [opts, target] of [[{ sparsity: 0.5 }, 0.5], [{ nm: { n: 2, m: 4 } }, 0.5], [{ sparsity: 0.3 }, 0.3]] as const) {
        for (const w of [[1, 0], [0.7, 0.3], [0.2, 0.8]]) {
          const r = await mixPruneModel(slot, base, stats, w, opts);
          LINEAR_NAMES.forEach((name, j) => {
            const [N, K] = linearShape(base.cfg, name);
            const want = 'nm' in opts ? (N * K) / 2 : N * Math.floor(K * target);
            for (const row of r.zeros) expect(row[j], `${name} at ${w}`).toBe(want);
          });
          expect(Math.abs(r.overall - target)).toBeLessThan(0.02);
        }
      }
      // one-hot en: layer 0 masks and weights are the sequential reference's on the same windows
      const seq = await sequentialStats(en);
      await mixPruneModel(slot, base, stats, [1, 0], { sparsity: 0.5 });
      for (const name of LINEAR_NAMES) expect(await slot.readLinear(0, name), name).toEqual(seq.weights.get(`0.${name}`));
      // later layers: the dense statistic differs from the sequential one, so masks differ somewhere
      let differ = 0;
      for (let i = 1; i < base.cfg.numLayers; i++) for (const name of LINEAR_NAMES) if (!arraysEqual(await slot.readLinear(i, name), seq.weights.get(`${i}.${name}`)!)) differ++;
      expect(differ).toBeGreaterThan(0);
      // the dense model was not touched
      const { ckpt } = await fixtureCheckpoint();
      expect(await base.readLinear(3, 'mlp.up_proj')).toEqual(await ckpt.readF32('model.layers.3.mlp.up_proj.weight'));
      await ckpt.close();
      // all those masks came from the one collection pass
      expect(forwards).toBe(base.cfg.numLayers);
    } finally {
      slot.destroy();
    }
  });

  it('window shares give unit window weights (the reference update), other mixes weighted running means', () => {
    const shares = mixCoefficients([3, 7], [0.3, 0.7]);
    expect([...shares.idx]).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    for (let u = 0; u < 10; u++) {
      expect(shares.coef[2 * u]).toBe(Math.fround(u / (u + 1)));
      expect(shares.coef[2 * u + 1]).toBe(u + 1);
    }
    // one source alone: its windows only, unit weights
    const one = mixCoefficients([3, 7], [0, 1]);
    expect([...one.idx]).toEqual([3, 4, 5, 6, 7, 8, 9]);
    expect(one.coef[13]).toBe(7);
    // 0.5/0.5 of 2 + 6 windows: the 2 windows weigh 2 each, the 6 weigh 2/3: sum 8
    const half = mixCoefficients([2, 6], [1, 1]);
    expect(half.coef[3]).toBe(2); // W_1 / a_1 = 4 / 2
    expect(half.coef[15]).toBeCloseTo(8 / (2 / 3), 5);
  });

  it('refuses bad weights with a message', () => {
    const bad = (w: number[]) => {
      try {
        normaliseWeights(w, [16, 16], ['de', 'en']);
      } catch (e) {
        expect(e).toBeInstanceOf(PolyPruneError);
        return (e as PolyPruneError).message;
      }
      return 'accepted';
    };
    expect(bad([0, 0])).toMatch(/all 0/);
    expect(bad([NaN, 1])).toMatch(/'de' must be a number >= 0/);
    expect(bad([-0.1, 1])).toMatch(/>= 0/);
    expect(bad([1])).toMatch(/one mix weight per calibration source/);
    expect(normaliseWeights([7, 3], [16, 16])).toEqual([0.7, 0.3]);
  });
});

function arraysEqual(a: Float32Array, b: Float32Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

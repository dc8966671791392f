/**
 * The calibration mixer of every mixer method (the registry's MIX_METHODS, src/prune/mixer.ts) on the
 * stories260K fixture (lavapipe): per-source dense statistics from one pass, the statistic of any mix
 * against the sequential prune's in-run statistic, and the instant prune from it against the
 * sequential prune at layer 0. A new mixer method is tested by its entry in CASES (the compiler asks
 * for it): how to read its mixed statistic and how close the window shares must come; its own checks
 * go in its `specific` tests.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import type { Gpu } from '../../src/gpu/device';
import { LlamaModel, LINEAR_NAMES, linearShape, type LinearName } from '../../src/model/llama';
import { pruneModel } from '../../src/prune/run';
import { MIX_METHODS, type MixMethod } from '../../src/prune/methods';
import { MIXERS, type MixStats } from '../../src/prune/mixer';
import { INPUT_GROUPS, mixCoefficients, mixedStatistic, normaliseWeights, refMixScaler, type DenseStats } from '../../src/prune/mix';
import { checkStoredHessian, denseHessiansBytes, mixedHessian, readDenseHessians, refMixHessian, uploadDenseHessians, type DenseHessians } from '../../src/prune/mixHessian';
import { destroyPanels, readPanels } from '../../src/prune/panels';
import { PolyPruneError } from '../../src/common/errors';
import type { GptqResult } from '../../src/prune/gptq';
import { testGpu, expectClose } from '../helpers/gpu';
import { concatWindows, fixtureCheckpoint, fixtureModel, fixtureTensors, fixtureWindows } from '../helpers/fixture';

type Windows = { ids: Int32Array; n: number; seqlen: number };
type Opts = { sparsity?: number; nm?: { n: number; m: number } };

/** What a method's tests share: the GPU, the dense model, the statistics of all 16 en + 16 de windows, and helpers. */
interface Ctx {
  readonly gpu: Gpu;
  readonly base: LlamaModel;
  readonly stats: MixStats;
  readonly en: Windows;
  readonly de: Windows;
  /** Dense forwards run by the collections so far. */
  readonly forwards: number;
  freshModel(): Promise<LlamaModel>;
  /** The first `a` en windows, then the first `b` de windows. */
  concat(a: number, b: number): Windows;
  /** The sequential prune on `calib`: its in-run statistic (layer.group) and pruned weights (layer.name). */
  sequential(calib: Windows, opts?: Opts): Promise<{ stat: Map<string, Float32Array>; weights: Map<string, Float32Array> }>;
  /** The mixed statistic of `group` at `layer` for `weights` (one per source). */
  mixed(layer: number, group: LinearName, weights: number[], s?: MixStats): Promise<Float32Array>;
}

interface MixCase {
  /** The mixed statistic on the host (Wanda's per-channel input norms, SparseGPT's Hessian). */
  mixed(gpu: Gpu, s: MixStats, layer: number, group: LinearName, weights: number[]): Promise<Float32Array>;
  /** What the one collection pass holds, beyond one forward per layer. */
  onePass(c: Ctx): void;
  /** Weights equal to the window shares against the statistic of the concatenated windows. */
  sharesMatch(got: Float32Array, want: Float32Array, label: string): void;
  /** `got` (the 0.7 / 0.3 mix at layer 2) against the two sources' statistics `mEn`, `mDe`. */
  mixIsSum(c: Ctx, group: LinearName, got: Float32Array, mEn: Float32Array, mDe: Float32Array): Promise<void>;
  /** The method's own tests. */
  specific(c: () => Ctx): void;
}

/** A mixer method whose statistics another method's collection holds (GPTQ: SparseGPT's Hessians): tested in that method's suite (its `specific`). */
interface SharedCase {
  readonly sharedWith: MixMethod;
}

const CASES: { readonly [K in MixMethod]: MixCase | SharedCase } = {
  wanda: {
    async mixed(gpu, s, layer, group, weights) {
      const t = mixedStatistic(gpu, s as DenseStats, layer, group, mixCoefficients(s.counts, weights));
      const v = await gpu.readF32(t);
      t.destroy();
      return v;
    },
    onePass({ base, en, de, stats }) {
      expect((stats as DenseStats).perWindow.length).toBe(base.cfg.numLayers);
      expect((stats as DenseStats).perWindow[0].get('mlp.down_proj')!.shape).toEqual([en.n + de.n, base.cfg.intermediateSize]);
    },
    sharesMatch(got, want, label) {
      expect(got, label).toEqual(want); // bitwise
    },
    async mixIsSum({ gpu, stats }, group, got, mEn, mDe) {
      // the GPU kernel against its f32 reference, and against the mean of the per-source means
      const t = (stats as DenseStats).perWindow[2].get(group)!;
      expectClose(got, refMixScaler(await gpu.readF32(t), t.shape[1], mixCoefficients(stats.counts, [0.7, 0.3])), 0, 2e-7, `kernel ${group}`);
      expectClose(got, mEn.map((x, c) => 0.7 * x + 0.3 * mDe[c]), 0, 1e-5, `0.7 m_en + 0.3 m_de ${group}`);
    },
    specific(ctx) {
      it('one source alone is the dense statistic of the reference at every layer', async () => {
        const c = ctx();
        // dense.safetensors: the reference's scaler_row of the DENSE model on calib-en, every layer
        const dense = await fixtureTensors('dense.safetensors');
        for (let i = 0; i < c.base.cfg.numLayers; i++) {
          for (const g of INPUT_GROUPS) expectClose(await c.mixed(i, g.lead, [1, 0]), await dense.readF32(`scaler_row.${i}.${g.lead}`), 0, 1e-5, `layer ${i} ${g.lead}`);
        }
        await dense.close();
      });

      it('re-masking keeps the sparsity at the target (unstructured and 2:4)', async () => {
        const c = ctx();
        const slot = await c.freshModel();
        try {
          for (const [opts, target] of [[{ sparsity: 0.5 }, 0.5], [{ nm: { n: 2, m: 4 } }, 0.5], [{ sparsity: 0.3 }, 0.3]] as const) {
            for (const w of [[1, 0], [0.7, 0.3], [0.2, 0.8]]) {
              const r = await MIXERS.wanda.mix(slot, c.base, c.stats, w, opts);
              LINEAR_NAMES.forEach((name, j) => {
                const [N, K] = linearShape(c.base.cfg, name);
                const want = 'nm' in opts ? (N * K) / 2 : N * Math.floor(K * target);
                for (const row of r.zeros) expect(row[j], `${name} at ${w}`).toBe(want);
              });
              expect(Math.abs(r.overall - target)).toBeLessThan(0.02);
            }
          }
          expect(c.forwards).toBe(c.base.cfg.numLayers);
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
    },
  },

  sparsegpt: {
    async mixed(gpu, s, layer, group, weights) {
      const m = mixedHessian(gpu, s as DenseHessians, layer, group, weights);
      const v = await readPanels(gpu, m);
      destroyPanels(m);
      return v;
    },
    onePass({ base, stats }) {
      // S x L x (3 C^2 + F^2) floats
      const { hiddenSize: C, intermediateSize: F, numLayers: L } = base.cfg;
      expect(stats.bytes).toBe(2 * L * (3 * C * C + F * F) * 4);
      expect(denseHessiansBytes(base.cfg, 2)).toBe(stats.bytes);
      expect((stats as DenseHessians).perSource[1][0].get('mlp.down_proj')!.d).toBe(F);
    },
    sharesMatch(got, want, label) {
      // to f32 rounding: within 1e-6 of the largest diagonal entry
      const K = Math.round(Math.sqrt(want.length));
      let scale = 0;
      for (let p = 0; p < K; p++) scale = Math.max(scale, Math.abs(want[p * K + p]));
      expectClose(got, want, 1e-6 * scale, 0, label);
      let worst = 0;
      for (let i = 0; i < got.length; i++) worst = Math.max(worst, Math.abs(got[i] - want[i]) / scale);
      console.log(`  H_w vs the concatenated windows' Hessian, ${label}: max |diff| = ${worst.toExponential(2)} x max diag`);
      expect(got).not.toEqual(new Float32Array(got.length));
    },
    async mixIsSum(_c, group, got, hEn, hDe) {
      // the GPU kernel against its f32 reference
      expectClose(got, refMixHessian([hEn, hDe], [0.7, 0.3]), 0, 1e-6, group);
    },
    specific(ctx) {
      it('2:4 from one source at weight 1: the layer-0 pruned weights are the sequential ones', async () => {
        const c = ctx();
        const slot = await c.freshModel();
        try {
          const seq24 = await c.sequential(c.de, { nm: { n: 2, m: 4 } });
          const r24 = await MIXERS.sparsegpt.mix(slot, c.base, c.stats, [0, 1], { nm: { n: 2, m: 4 } });
          expect(r24.overall).toBe(0.5);
          for (const name of LINEAR_NAMES) expect(await slot.readLinear(0, name), `2:4 ${name}`).toEqual(seq24.weights.get(`0.${name}`));
        } finally {
          slot.destroy();
        }
      });

      it('sparsity stays at the target for any mix; read back -> upload gives the same masks; damaged Hessians are refused', async () => {
        const { gpu, base, stats, freshModel } = ctx();
        const hs = stats as DenseHessians;
        const slot = await freshModel();
        const values = await readDenseHessians(gpu, hs);
        expect(values.length).toBe(2 * base.cfg.numLayers * 4);
        for (const [k, v] of values.entries()) expect(checkStoredHessian(v, linearShape(base.cfg, INPUT_GROUPS[k % 4].lead)[1]), `${k}`).toBeNull();
        const again = uploadDenseHessians(base, hs.counts, hs.seqlen, values);
        try {
          for (const [opts, target] of [[{ sparsity: 0.5 }, 0.5], [{ sparsity: 0.3 }, 0.3]] as const) {
            const r = await MIXERS.sparsegpt.mix(slot, base, hs, [0.7, 0.3], opts);
            LINEAR_NAMES.forEach((name, j) => {
              const numel = linearShape(base.cfg, name).reduce((a, b) => a * b, 1);
              for (const row of r.zeros) expect(Math.abs(row[j] / numel - target), name).toBeLessThan(0.02);
            });
          }
          const a: Float32Array[] = [];
          for (const name of LINEAR_NAMES) a.push(await slot.readLinear(4, name));
          await MIXERS.sparsegpt.mix(slot, base, again, [0.7, 0.3], { sparsity: 0.3 });
          for (const [j, name] of LINEAR_NAMES.entries()) expect(await slot.readLinear(4, name), name).toEqual(a[j]);
        } finally {
          MIXERS.sparsegpt.free(again);
          slot.destroy();
        }
        const K = base.cfg.hiddenSize;
        const bad = values.map((v) => v.slice());
        bad[1][3] = Number.NaN;
        expect(() => uploadDenseHessians(base, hs.counts, hs.seqlen, bad)).toThrow(/layer 0 self_attn.o_proj holds a non-finite value/);
        const neg = values.map((v) => v.slice());
        neg[0][5 * K + 5] = -1;
        expect(() => uploadDenseHessians(base, hs.counts, hs.seqlen, neg)).toThrow(/negative diagonal entry/);
        const asym = values.map((v) => v.slice());
        asym[0][1] += Math.abs(asym[0][1]) + 1;
        expect(() => uploadDenseHessians(base, hs.counts, hs.seqlen, asym)).toThrow(/asymmetric pair H\[1,0\]/);
        expect(() => uploadDenseHessians(base, hs.counts, hs.seqlen, values.slice(1))).toThrow(/hold 39 Hessians/);
      });

      // ---- GPTQ from the same collection (gptqmix, issue 23) ----
      it('GPTQ from these Hessians: one source at weight 1 gives layer 0 of the sequential quantize bitwise (codes, scales, zeros, weights); the window shares give GPTQ on the concatenated windows\' Hessian', async () => {
        const c = ctx();
        const quantize = { bits: 4, groupSize: 32, actOrder: false, staticGroups: false };
        const slot = await c.freshModel();
        const seqQuantize = async (calib: Windows) => {
          const model = await c.freshModel();
          const q = new Map<string, GptqResult>();
          const weights = new Map<string, Float32Array>();
          try {
            await pruneModel(model, calib, { method: 'gptq', quantize, onQuantized: (i, n, r) => void q.set(`${i}.${n}`, r), onMatrixPruned: (i, n, w) => void (i === 0 && weights.set(n, w.slice())) });
          } finally {
            model.destroy();
          }
          return { q, weights };
        };
        try {
          const got = new Map<string, GptqResult>();
          const seq = await seqQuantize(c.de);
          await MIXERS.gptq.mix(slot, c.base, c.stats, [0, 1], { quantize, onQuantized: (i, n, r) => void got.set(`${i}.${n}`, r) });
          for (const name of LINEAR_NAMES) {
            const a = got.get(`0.${name}`)!;
            const b = seq.q.get(`0.${name}`)!;
            expect(a.codes, `codes ${name}`).toEqual(b.codes);
            expect(a.scales, `scales ${name}`).toEqual(b.scales);
            expect(a.zeros, `zeros ${name}`).toEqual(b.zeros);
            expect(await slot.readLinear(0, name), `weights ${name}`).toEqual(seq.weights.get(name));
          }
          // later layers: the sequential quantize sees the quantized outputs, the dense Hessians do not
          let differ = 0;
          for (let i = 1; i < c.base.cfg.numLayers; i++) for (const name of LINEAR_NAMES) if (!arraysEqual(Uint8Array.from(got.get(`${i}.${name}`)!.codes), Uint8Array.from(seq.q.get(`${i}.${name}`)!.codes))) differ++;
          expect(differ).toBeGreaterThan(0);
          // window shares (16 + 16): H_w is the concatenated windows' Hessian to f32 rounding, so the codes
          // agree except where a value sits on a rounding boundary (a float32 tie): at most 1 in 1000
          got.clear();
          const both = await seqQuantize(c.concat(16, 16));
          await MIXERS.gptq.mix(slot, c.base, c.stats, [0.5, 0.5], { quantize, onQuantized: (i, n, r) => void got.set(`${i}.${n}`, r) });
          for (const name of LINEAR_NAMES) {
            const a = got.get(`0.${name}`)!;
            const b = both.q.get(`0.${name}`)!;
            let diff = 0;
            for (let k = 0; k < a.codes.length; k++) if (a.codes[k] !== b.codes[k]) diff++;
            console.log(`  GPTQ 4-bit g32 layer 0 ${name}: ${diff} of ${a.codes.length} codes differ between the 0.5/0.5 mix and the concatenated windows`);
            expect(diff / a.codes.length, name).toBeLessThanOrEqual(1e-3);
            expectClose(a.scales, b.scales, 0, 1e-4, `scales ${name}`);
            expectClose(await slot.readLinear(0, name), both.weights.get(name)!, 1e-3, 0, `weights ${name}`);
          }
          // the statistics collected for SparseGPT are the ones GPTQ uses; one collection pass in all
          expect(c.forwards).toBe(c.base.cfg.numLayers);
        } finally {
          slot.destroy();
        }
      });
    },
  },

  gptq: { sharedWith: 'sparsegpt' },
};

const OWN = MIX_METHODS.filter((m) => !('sharedWith' in CASES[m]));

describe.each(OWN)('calibration mixer (%s): per-source dense statistics mixed with weights', (method) => {
  const mixer = MIXERS[method];
  const kase = CASES[method] as MixCase;
  let gpu: Gpu;
  let base: LlamaModel;
  let stats: MixStats;
  let en: Windows;
  let de: Windows;
  let forwards = 0;

  const freshModel = (): Promise<LlamaModel> => fixtureModel(gpu, true);
  const concat = (a: number, b: number) => concatWindows(en, a, de, b);
  const mixed = (layer: number, group: LinearName, weights: number[], s: MixStats = stats) => kase.mixed(gpu, s, layer, group, weights);
  async function sequential(calib: Windows, opts: Opts = { sparsity: 0.5 }) {
    const model = await freshModel();
    const stat = new Map<string, Float32Array>();
    const weights = new Map<string, Float32Array>();
    // each method reports its own in-run statistic: Wanda's through onStatistic, SparseGPT's through onHessian
    const keep = (i: number, g: LinearName, v: Float32Array) => void stat.set(`${i}.${g}`, v);
    await pruneModel(model, calib, { method, ...opts, onStatistic: keep, onHessian: keep, onMatrixPruned: (i, n, w) => void weights.set(`${i}.${n}`, w) });
    model.destroy();
    return { stat, weights };
  }
  const ctx = (): Ctx => ({ gpu, base, stats, en, de, forwards, freshModel, concat, sequential, mixed });

  beforeAll(async () => {
    gpu = await testGpu();
    base = await freshModel();
    en = await fixtureWindows('calib-en.safetensors');
    de = await fixtureWindows('calib-de.safetensors');
    const all = concat(en.n, de.n);
    stats = await mixer.collect(base, all.ids, [en.n, de.n], all.seqlen, { maxChunkTokens: 320, onLayerForward: () => void forwards++ });
  });

  afterAll(() => {
    if (stats) mixer.free(stats);
    base?.destroy();
  });

  it('one pass: one forward per layer, the statistics of every source', () => {
    expect(forwards).toBe(base.cfg.numLayers);
    kase.onePass(ctx());
  });

  it('one source at weight 1 is bitwise the sequential prune\'s in-run statistic at layer 0', async () => {
    const seq = await sequential(en);
    for (const g of INPUT_GROUPS) expect(await mixed(0, g.lead, [1, 0]), g.lead).toEqual(seq.stat.get(`0.${g.lead}`));
  });

  it('weights equal to the window shares give the statistic of the concatenated windows (layer 0; 16 + 16 and an uneven 5 + 11 collected on its own)', async () => {
    for (const [a, b] of [
      [16, 16],
      [5, 11],
    ]) {
      const part = concat(a, b);
      const s2 = a === en.n && b === de.n ? stats : await mixer.collect(base, part.ids, [a, b], part.seqlen);
      try {
        const seq = await sequential(part);
        for (const g of INPUT_GROUPS) kase.sharesMatch(await mixed(0, g.lead, [a / (a + b), b / (a + b)], s2), seq.stat.get(`0.${g.lead}`)!, `${a}+${b} ${g.lead}`);
      } finally {
        if (s2 !== stats) mixer.free(s2);
      }
    }
  });

  it('any mix is sum_s w_s m_s, and moves with the weights (the two sources differ)', async () => {
    for (const g of INPUT_GROUPS) {
      const mEn = await mixed(2, g.lead, [1, 0]);
      const mDe = await mixed(2, g.lead, [0, 1]);
      expect(mEn).not.toEqual(mDe);
      await kase.mixIsSum(ctx(), g.lead, await mixed(2, g.lead, [0.7, 0.3]), mEn, mDe);
    }
  });

  it('the instant prune from one source at weight 1: layer-0 weights are the sequential ones, later layers differ, the dense model untouched, no forward pass', async () => {
    const seq = await sequential(en);
    const slot = await freshModel();
    try {
      const r = await mixer.mix(slot, base, stats, [1, 0], { sparsity: 0.5 });
      for (const name of LINEAR_NAMES) expect(await slot.readLinear(0, name), name).toEqual(seq.weights.get(`0.${name}`));
      expect(Math.abs(r.overall - 0.5)).toBeLessThan(0.02);
      // later layers: the sequential run sees the pruned outputs, the dense statistic does not: weights differ there
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

  kase.specific(ctx);
});

function arraysEqual(a: Float32Array | Uint8Array, b: Float32Array | Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * The calibration mixer for SparseGPT on the stories260K fixture (lavapipe): per-source dense
 * Hessians from one pass, H_w = sum_s w_s H_s against the sequential prune's in-run Hessian, and the
 * instant prune from H_w against the sequential prune at layer 0.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import type { Gpu } from '../../src/gpu/device';
import { LlamaModel, LINEAR_NAMES, linearShape, type LinearName } from '../../src/model/llama';
import { pruneModel } from '../../src/prune/run';
import { INPUT_GROUPS } from '../../src/prune/mix';
import { checkStoredHessian, collectDenseHessians, denseHessiansBytes, freeDenseHessians, mixedHessian, mixSparsegptModel, readDenseHessians, refMixHessian, uploadDenseHessians, type DenseHessians } from '../../src/prune/mixHessian';
import { destroyPanels, readPanels } from '../../src/prune/panels';
import { testGpu, expectClose } from '../helpers/gpu';
import { concatWindows, fixtureCheckpoint, fixtureModel, fixtureWindows } from '../helpers/fixture';

let gpu: Gpu;
let base: LlamaModel;
let hs: DenseHessians;
let en: { ids: Int32Array; n: number; seqlen: number };
let de: { ids: Int32Array; n: number; seqlen: number };
let forwards = 0;

const freshModel = (resident = true): Promise<LlamaModel> => fixtureModel(gpu, resident);

/** The first `a` en windows, then the first `b` de windows. */
const concat = (a: number, b: number) => concatWindows(en, a, de, b);

/** The sequential SparseGPT prune on `calib`: its in-run Hessians (layer.group) and pruned weights (layer.name). */
async function sequential(calib: { ids: Int32Array; n: number; seqlen: number }, opts: { sparsity?: number; nm?: { n: number; m: number } } = { sparsity: 0.5 }): Promise<{ H: Map<string, Float32Array>; weights: Map<string, Float32Array> }> {
  const model = await freshModel();
  const H = new Map<string, Float32Array>();
  const weights = new Map<string, Float32Array>();
  await pruneModel(model, calib, { method: 'sparsegpt', ...opts, onHessian: (i, g, v) => void H.set(`${i}.${g}`, v), onMatrixPruned: (i, n, w) => void weights.set(`${i}.${n}`, w) });
  model.destroy();
  return { H, weights };
}

async function mixed(layer: number, group: LinearName, w: number[], h: DenseHessians = hs): Promise<Float32Array> {
  const m = mixedHessian(gpu, h, layer, group, w);
  const v = await readPanels(gpu, m);
  destroyPanels(m);
  return v;
}

beforeAll(async () => {
  gpu = await testGpu();
  base = await freshModel();
  en = await fixtureWindows('calib-en.safetensors');
  de = await fixtureWindows('calib-de.safetensors');
  const all = concat(en.n, de.n);
  hs = await collectDenseHessians(base, all.ids, [en.n, de.n], all.seqlen, { maxChunkTokens: 320, onLayerForward: () => void forwards++ });
});

afterAll(() => {
  freeDenseHessians(hs);
  base.destroy();
});

describe('calibration mixer (SparseGPT): per-source dense Hessians mixed with weights', () => {
  it('one pass: one forward per layer; S x L x (3 C^2 + F^2) floats', () => {
    expect(forwards).toBe(base.cfg.numLayers);
    const { hiddenSize: C, intermediateSize: F, numLayers: L } = base.cfg;
    expect(hs.bytes).toBe(2 * L * (3 * C * C + F * F) * 4);
    expect(denseHessiansBytes(base.cfg, 2)).toBe(hs.bytes);
    expect(hs.perSource[1][0].get('mlp.down_proj')!.d).toBe(F);
  });

  it('one source at weight 1 is bitwise the sequential prune\'s in-run Hessian at layer 0, and its layer-0 pruned weights are the sequential ones', async () => {
    const seq = await sequential(en);
    for (const g of INPUT_GROUPS) expect(await mixed(0, g.lead, [1, 0]), g.lead).toEqual(seq.H.get(`0.${g.lead}`));
    const slot = await freshModel();
    try {
      const r = await mixSparsegptModel(slot, base, hs, [1, 0], { sparsity: 0.5 });
      for (const name of LINEAR_NAMES) expect(await slot.readLinear(0, name), name).toEqual(seq.weights.get(`0.${name}`));
      // later layers see the pruned (and OBS-updated) outputs in the sequential run: weights differ there
      let differ = 0;
      for (let i = 1; i < base.cfg.numLayers; i++) for (const name of LINEAR_NAMES) if (!arraysEqual(await slot.readLinear(i, name), seq.weights.get(`${i}.${name}`)!)) differ++;
      expect(differ).toBeGreaterThan(0);
      expect(Math.abs(r.overall - 0.5)).toBeLessThan(0.02);
      // 2:4 as well, layer 0
      const seq24 = await sequential(de, { nm: { n: 2, m: 4 } });
      const r24 = await mixSparsegptModel(slot, base, hs, [0, 1], { nm: { n: 2, m: 4 } });
      expect(r24.overall).toBe(0.5);
      for (const name of LINEAR_NAMES) expect(await slot.readLinear(0, name), `2:4 ${name}`).toEqual(seq24.weights.get(`0.${name}`));
      // the dense model was not touched
      const { ckpt } = await fixtureCheckpoint();
      expect(await base.readLinear(3, 'mlp.up_proj')).toEqual(await ckpt.readF32('model.layers.3.mlp.up_proj.weight'));
      await ckpt.close();
      expect(forwards).toBe(base.cfg.numLayers);
    } finally {
      slot.destroy();
    }
  });

  it('weights equal to the window shares give the Hessian of the concatenated windows (layer 0, to f32 rounding: within 1e-6 of the largest diagonal entry)', async () => {
    for (const [a, b] of [
      [16, 16],
      [5, 11],
    ]) {
      const part = concat(a, b);
      const h2 = a === 16 ? hs : await collectDenseHessians(base, part.ids, [a, b], part.seqlen);
      try {
        const seq = await sequential(part);
        for (const g of INPUT_GROUPS) {
          const want = seq.H.get(`0.${g.lead}`)!;
          const got = await mixed(0, g.lead, [a / (a + b), b / (a + b)], h2);
          const K = Math.round(Math.sqrt(want.length));
          let scale = 0;
          for (let p = 0; p < K; p++) scale = Math.max(scale, Math.abs(want[p * K + p]));
          expectClose(got, want, 1e-6 * scale, 0, `${a}+${b} ${g.lead}`);
          let worst = 0;
          for (let i = 0; i < got.length; i++) worst = Math.max(worst, Math.abs(got[i] - want[i]) / scale);
          console.log(`  H_w vs the concatenated windows' Hessian, ${a}+${b} ${g.lead}: max |diff| = ${worst.toExponential(2)} x max diag`);
          expect(got).not.toEqual(new Float32Array(got.length));
        }
      } finally {
        if (h2 !== hs) freeDenseHessians(h2);
      }
    }
  });

  it('any mix is sum_s w_s H_s: the GPU kernel against its f32 reference', async () => {
    for (const g of INPUT_GROUPS) {
      const hEn = await mixed(2, g.lead, [1, 0]);
      const hDe = await mixed(2, g.lead, [0, 1]);
      expect(hEn).not.toEqual(hDe);
      expectClose(await mixed(2, g.lead, [0.7, 0.3]), refMixHessian([hEn, hDe], [0.7, 0.3]), 0, 1e-6, g.lead);
    }
  });

  it('sparsity stays at the target for any mix; read back -> upload gives the same masks; damaged Hessians are refused', async () => {
    const slot = await freshModel();
    const values = await readDenseHessians(gpu, hs);
    expect(values.length).toBe(2 * base.cfg.numLayers * 4);
    for (const [k, v] of values.entries()) expect(checkStoredHessian(v, linearShape(base.cfg, INPUT_GROUPS[k % 4].lead)[1]), `${k}`).toBeNull();
    const again = uploadDenseHessians(base, hs.counts, hs.seqlen, values);
    try {
      for (const [opts, target] of [[{ sparsity: 0.5 }, 0.5], [{ sparsity: 0.3 }, 0.3]] as const) {
        const r = await mixSparsegptModel(slot, base, hs, [0.7, 0.3], opts);
        LINEAR_NAMES.forEach((name, j) => {
          const numel = linearShape(base.cfg, name).reduce((a, b) => a * b, 1);
          for (const row of r.zeros) expect(Math.abs(row[j] / numel - target), name).toBeLessThan(0.02);
        });
      }
      const a: Float32Array[] = [];
      for (const name of LINEAR_NAMES) a.push(await slot.readLinear(4, name));
      await mixSparsegptModel(slot, base, again, [0.7, 0.3], { sparsity: 0.3 });
      for (const [j, name] of LINEAR_NAMES.entries()) expect(await slot.readLinear(4, name), name).toEqual(a[j]);
    } finally {
      freeDenseHessians(again);
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
});

function arraysEqual(a: Float32Array, b: Float32Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

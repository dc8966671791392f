import { describe, it, expect, beforeAll } from 'vitest';
import type { Gpu } from '../../src/gpu/device';
import { LlamaModel, LINEAR_NAMES, type LinearName } from '../../src/model/llama';
import { refEmbed, refLayer, refLinear, type CpuModel, type RefLayerInputs } from '../../src/model/reference';
import { pruneModel } from '../../src/prune/run';
import { packMask, maskIou, modelMaskIou } from '../../src/prune/mask';
import type { ProgressEvent } from '../../src/common/progress';
import { testGpu } from '../helpers/gpu';
import { fixtureCheckpoint, fixtureCpuModel, fixtureWindows } from '../helpers/fixture';

/**
 * Per-matrix relative reconstruction error ||WX - W'X||^2 / ||WX||^2 (GPU, through the Gram matrix of
 * X) against a plain-TS reference that multiplies the weights with the activations directly, along
 * the same sequential run (layer i sees the outputs of the pruned layers before it).
 */

const INPUT: Record<LinearName, keyof RefLayerInputs> = {
  'self_attn.q_proj': 'attnIn',
  'self_attn.k_proj': 'attnIn',
  'self_attn.v_proj': 'attnIn',
  'self_attn.o_proj': 'oIn',
  'mlp.gate_proj': 'mlpIn',
  'mlp.up_proj': 'mlpIn',
  'mlp.down_proj': 'downIn',
};

let gpu: Gpu;
let cpu: CpuModel;
beforeAll(async () => {
  gpu = await testGpu();
  cpu = await fixtureCpuModel();
});

async function windows(file: string, n: number) {
  const w = await fixtureWindows(file);
  return { ids: w.ids.slice(0, n * w.seqlen), n, seqlen: w.seqlen };
}

/** The reference: sequential run on the CPU with the GPU's pruned weights, errors in float64. */
function referenceErrors(calib: { ids: Int32Array; n: number; seqlen: number }, pruned: Map<string, Float32Array>): number[][] {
  const { n, seqlen: S } = calib;
  const T = n * S;
  const dense = cpu.weights;
  const work = new Map(dense);
  const model: CpuModel = { ...cpu, weights: work };
  let x = refEmbed(model, calib.ids);
  const out: number[][] = [];
  for (let i = 0; i < cpu.dims.numLayers; i++) {
    const { inputs } = refLayer(model, i, x, T, S);
    const row: number[] = [];
    for (const name of LINEAR_NAMES) {
      const key = `model.layers.${i}.${name}.weight`;
      const W = dense.get(key)!;
      const Wp = pruned.get(key)!;
      const X = inputs[INPUT[name]];
      const K = X.length / T;
      const N = W.length / K;
      const y = refLinear(X, T, K, W, N);
      const yp = refLinear(X, T, K, Wp, N);
      let num = 0;
      let den = 0;
      for (let j = 0; j < y.length; j++) {
        num += (y[j] - yp[j]) ** 2;
        den += y[j] ** 2;
      }
      row.push(num / den);
      work.set(key, Wp);
    }
    out.push(row);
    x = refLayer(model, i, x, T, S).out;
  }
  return out;
}

describe('reconstruction error per layer and matrix', () => {
  for (const method of ['wanda', 'sparsegpt'] as const) {
    it(`${method} 50 %: GPU (Gram matrix) equals the direct plain-TS computation`, async () => {
      const { cfg, ckpt } = await fixtureCheckpoint();
      const model = await LlamaModel.load(gpu, cfg, ckpt, { resident: true });
      const calib = await windows('calib-en.safetensors', 4);
      const pruned = new Map<string, Float32Array>();
      const events: ProgressEvent[] = [];
      try {
        const report = await pruneModel(model, calib, {
          method,
          sparsity: 0.5,
          reconstructionError: true,
          onMatrixPruned: (i, name, w) => void pruned.set(`model.layers.${i}.${name}.weight`, w),
          onProgress: (e) => events.push(e),
        });
        const ref = referenceErrors(calib, pruned);
        const got = LINEAR_NAMES.map(() => 0);
        for (const m of report.perMatrix) {
          const want = ref[m.layer][LINEAR_NAMES.indexOf(m.name)];
          expect(m.reconError, `${m.tensor}`).not.toBeNull();
          expect(Math.abs(m.reconError! - want), `${m.tensor}: got ${m.reconError} want ${want}`).toBeLessThanOrEqual(2e-3 * want + 1e-7);
          expect(m.reconError!).toBeGreaterThan(0);
          expect(m.reconError!).toBeLessThan(1);
          got[LINEAR_NAMES.indexOf(m.name)]++;
        }
        expect(got.every((c) => c === cfg.numLayers)).toBe(true);
        // one layerDone event per layer, carrying the same numbers
        const done = events.filter((e): e is Extract<ProgressEvent, { kind: 'layerDone' }> => e.kind === 'layerDone');
        expect(done.map((e) => e.layer)).toEqual([...Array(cfg.numLayers).keys()]);
        expect(done[2].recon).toEqual(report.perMatrix.filter((m) => m.layer === 2).map((m) => m.reconError));
        expect(done[2].sparsity.every((s) => Math.abs(s - 0.5) < 0.01)).toBe(true);
      } finally {
        model.destroy();
      }
    }, 300_000);
  }

  it('is not measured unless asked, and never for magnitude', async () => {
    const { cfg, ckpt } = await fixtureCheckpoint();
    const model = await LlamaModel.load(gpu, cfg, ckpt, { resident: true });
    try {
      const plain = await pruneModel(model, await windows('calib-en.safetensors', 2), { method: 'wanda', sparsity: 0.5 });
      expect(plain.perMatrix.every((m) => m.reconError === undefined)).toBe(true);
    } finally {
      model.destroy();
    }
    const model2 = await LlamaModel.load(gpu, cfg, ckpt, { resident: true });
    try {
      const mag = await pruneModel(model2, null, { method: 'magnitude', sparsity: 0.5, reconstructionError: true });
      expect(mag.perMatrix.every((m) => m.reconError === undefined)).toBe(true);
    } finally {
      model2.destroy();
    }
  }, 120_000);
});

describe('mask IoU', () => {
  const naive = (a: Float32Array, b: Float32Array) => {
    let i = 0;
    let u = 0;
    for (let j = 0; j < a.length; j++) {
      const pa = a[j] === 0;
      const pb = b[j] === 0;
      if (pa && pb) i++;
      if (pa || pb) u++;
    }
    return u ? i / u : null;
  };
  it('bitsets give the IoU of the zero positions (odd sizes, empty masks)', () => {
    const a = Float32Array.from({ length: 77 }, (_, j) => (j % 3 === 0 ? 0 : 1));
    const b = Float32Array.from({ length: 77 }, (_, j) => (j % 2 === 0 ? 0 : 1));
    expect(maskIou(packMask(a), packMask(b))).toBeCloseTo(naive(a, b)!, 12);
    expect(maskIou(packMask(a), packMask(a))).toBe(1);
    expect(maskIou(packMask(new Float32Array(5).fill(1)), packMask(new Float32Array(5).fill(1)))).toBeNull();
    expect(() => maskIou(packMask(a), packMask(new Float32Array(100)))).toThrow(/different sizes/);
  });

  it('en vs de calibration on the fixture: per layer and matrix, as the plain computation', async () => {
    const { cfg, ckpt } = await fixtureCheckpoint();
    const runs: Map<string, Float32Array>[] = [];
    for (const file of ['calib-en.safetensors', 'calib-de.safetensors']) {
      const model = await LlamaModel.load(gpu, cfg, ckpt, { resident: true });
      const w = new Map<string, Float32Array>();
      try {
        await pruneModel(model, await windows(file, 4), { method: 'wanda', sparsity: 0.5, onMatrixPruned: (i, name, x) => void w.set(`${i}/${name}`, x) });
      } finally {
        model.destroy();
      }
      runs.push(w);
    }
    const mask = (w: Map<string, Float32Array>) => ({ matrices: [...LINEAR_NAMES], layers: [...Array(cfg.numLayers).keys()].map((i) => LINEAR_NAMES.map((n) => packMask(w.get(`${i}/${n}`)!))) });
    const iou = modelMaskIou(mask(runs[0]), mask(runs[1]));
    for (let i = 0; i < cfg.numLayers; i++)
      LINEAR_NAMES.forEach((n, j) => {
        const want = naive(runs[0].get(`${i}/${n}`)!, runs[1].get(`${i}/${n}`)!)!;
        expect(iou[i][j]).toBeCloseTo(want, 12);
        // different calibration, different but strongly overlapping masks (random would be 1/3)
        expect(want).toBeGreaterThan(0.34);
        expect(want).toBeLessThan(1);
      });
  }, 120_000);
});

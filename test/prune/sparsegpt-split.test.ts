/**
 * SparseGPT at any width: when the Hessian (d^2 x 4 bytes) exceeds one storage binding, H, its Cholesky
 * factor, the inverse and U live in row panels (src/prune/panels.ts). These tests lower the binding cap
 * of a second device (Gpu.create maxBindingBytes) so that the split paths run on small shapes, and check
 * that they give bitwise the masks and weights of the one-binding path, the float64 reference, and the
 * whole stories260K run.
 */
import { describe, it, expect, beforeAll } from 'vitest';
import { Gpu } from '../../src/gpu/device';
import { nodeGpu } from '../../src/gpu/node';
import type { ChunkedMatrix } from '../../src/gpu/ops';
import { sparsegptPrune, inverseHessianFactor, controlBlock } from '../../src/prune/sparsegpt';
import { HessianAccumulator } from '../../src/prune/stats';
import { allocPanels, destroyPanels, panelRows, panelStart, readPanels, type PanelMatrix } from '../../src/prune/panels';
import { LlamaModel, LINEAR_NAMES } from '../../src/model/llama';
import { pruneModel } from '../../src/prune/run';
import { testGpu, randn, uploadRowChunks, readRowChunks } from '../helpers/gpu';
import { fixtureCheckpoint, fixtureWindows } from '../helpers/fixture';
import { sparsegptRef64, randomHessian } from './sparsegpt-ref';

let big: Gpu;
let small: Gpu;
/** 64 KiB bindings: a 200-wide Hessian (160 kB) needs 3 panels of H and 4 of U (64 rows, blocksize <= 64). */
const CAP = 64 * 1024;

beforeAll(async () => {
  big = await testGpu();
  small = await Gpu.create(await nodeGpu(), { politeWait: true, maxBindingBytes: CAP });
});

function seeded(seed: number): (k: number) => Float32Array {
  let s = seed;
  return (k) => randn(k, ++s, 1);
}

const uploadChunked = uploadRowChunks;
const readChunked = (gpu: Gpu, W: ChunkedMatrix): Promise<Float32Array> => readRowChunks(gpu, W, { destroy: true });

function uploadPanels(gpu: Gpu, h: Float32Array, d: number, rowsPer: number): PanelMatrix {
  const m = allocPanels(gpu, d, rowsPer, 'H');
  m.panels.forEach((t, p) => gpu.write(t, h.subarray(panelStart(m, p) * d, (panelStart(m, p) + panelRows(m, p)) * d)));
  return m;
}

describe('split Hessian and inverse factor', () => {
  it('the Hessian accumulated in row panels is bitwise the one-binding Hessian', async () => {
    const K = 200;
    const S = 21; // 3 windows x 21 tokens x 200 floats fit the 64 KiB cap
    const x = randn(3 * S * K, 5, 1);
    const one = new HessianAccumulator(big, K);
    const split = new HessianAccumulator(small, K);
    expect(one.matrix.panels.length).toBe(1);
    expect(split.matrix.panels.length).toBe(3);
    for (const [g, acc] of [[big, one], [small, split]] as const) {
      const t = g.upload(x, [3 * S, K]);
      acc.addBatch(t, S, 1);
      acc.addBatch(t, 2 * S, 2, S);
      t.destroy();
    }
    const a = await readPanels(big, one.matrix);
    const b = await readPanels(small, split.matrix);
    expect(b).toEqual(a);
    one.free();
    split.free();
  });

  it('U from row panels (ragged, several per binding pair) is bitwise U from one binding, with a dead column', async () => {
    const d = 200;
    const h = Float32Array.from(randomHessian(d, d + 40, seeded(13)));
    for (let i = 0; i < d; i++) h[i * d + 77] = h[77 * d + i] = 0;
    const ctl1 = controlBlock(big);
    const th = big.upload(h, [d, d], 'h');
    const u1 = await inverseHessianFactor(big, th, d, 0.01, ctl1);
    const want = await big.readF32(u1);
    const ctl2 = controlBlock(small);
    const hp = uploadPanels(small, h, d, 81);
    const u2 = await inverseHessianFactor(small, hp, d, 0.01, ctl2, 'test', 32);
    expect(u2.panels.length).toBe(7);
    expect(await readPanels(small, u2)).toEqual(want);
    [th, u1, ctl1, ctl2].forEach((t) => t.destroy());
    destroyPanels(hp);
    destroyPanels(u2);
  });
});

describe('sparsegptPrune with a Hessian wider than one binding', () => {
  const rows = 96;
  const d = 200;
  for (const [name, opts] of [
    ['unstructured 0.5, blocksize 32', { sparsity: 0.5, blocksize: 32 }],
    ['unstructured 0.6, blocksize 64', { sparsity: 0.6, blocksize: 64 }],
    ['2:4, blocksize 64', { nm: { n: 2, m: 4 }, blocksize: 64 }],
  ] as const) {
    it(`${name}: same masks and weights as one binding and as the float64 reference`, async () => {
      const w = randn(rows * d, 21);
      const h = Float32Array.from(randomHessian(d, 2 * d, seeded(22)));
      for (let i = 0; i < d; i++) h[i * d + 5] = h[5 * d + i] = 0; // a dead input
      // One binding (the regular path).
      const W1 = uploadChunked(big, w, rows, d, rows);
      const th = big.upload(h, [d, d], 'h');
      const z1 = await sparsegptPrune(big, W1, th, opts);
      const one = await readChunked(big, W1);
      th.destroy();
      // Tiny bindings: the weight in row chunks, H in panels of 81 rows, U in panels of 64.
      expect(() => small.tensor([d, d], 'f32', 'too big')).toThrow(/GPU buffer/);
      const W2 = uploadChunked(small, w, rows, d, 64);
      const hp = uploadPanels(small, h, d, 81);
      const z2 = await sparsegptPrune(small, W2, hp, opts);
      const split = await readChunked(small, W2);
      destroyPanels(hp);
      expect(z2.zeros).toBe(z1.zeros);
      expect(split).toEqual(one);
      const ref = sparsegptRef64(w, rows, d, h, opts);
      let flips = 0;
      for (let i = 0; i < rows * d; i++) if ((split[i] !== 0 ? 1 : 0) !== ref.mask[i]) flips++;
      expect(flips).toBe(0);
    });
  }

  it('refuses clearly when not even one panel of lcm(32, blocksize) rows fits a binding', async () => {
    const d = 200;
    const W = uploadChunked(small, randn(64 * d, 3), 64, d, 64);
    const hp = uploadPanels(small, Float32Array.from(randomHessian(d, 2 * d, seeded(4))), d, 81);
    await expect(sparsegptPrune(small, W, hp, { sparsity: 0.5, blocksize: 128 })).rejects.toThrow(/at least 128 rows .* in one storage binding/);
    destroyPanels(hp);
    W.chunks.forEach((ch) => ch.tensor.destroy());
  });
});

describe('stories260K pruned with split Hessians', () => {
  it('SparseGPT 2:4 on 96 KiB bindings (down_proj H and U in panels) gives bitwise the weights of the one-binding run', async () => {
    const mid = await Gpu.create(await nodeGpu(), { politeWait: true, maxBindingBytes: 96 * 1024 });
    const calib = await fixtureWindows('calib-en.safetensors');
    const run = async (g: Gpu) => {
      const { cfg, ckpt } = await fixtureCheckpoint();
      const model = await LlamaModel.load(g, cfg, ckpt);
      const weights = new Map<string, Float32Array>();
      await pruneModel(model, calib, { method: 'sparsegpt', nm: { n: 2, m: 4 }, onMatrixPruned: (i, n, w) => void weights.set(`${i}.${n}`, w) });
      model.destroy();
      await ckpt.close();
      return weights;
    };
    const a = await run(big);
    const b = await run(mid);
    expect(b.size).toBe(5 * LINEAR_NAMES.length);
    for (const [k, w] of a) expect(b.get(k), k).toEqual(w);
  });
});

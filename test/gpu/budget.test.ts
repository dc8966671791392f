/**
 * Bounded work per submit (issue 22): a tiny budget makes every split path run (command buffers
 * submitted early, matmul by 64-row slices, Hessian updates by row panels, SparseGPT's trailing GEMM
 * by row slices) with bitwise the same results; bad budgets are refused; a device lost mid-run ends
 * in a typed error, never a hang.
 */
import { describe, it, expect, beforeAll } from 'vitest';
import { Gpu } from '../../src/gpu/device';
import { nodeGpu } from '../../src/gpu/node';
import { LocalEngine } from '../../src/engine/engine';
import { LlamaModel } from '../../src/model/llama';
import { pruneModel, type PruneModelOptions } from '../../src/prune/run';
import { testGpu } from '../helpers/gpu';
import { fixtureCheckpoint, fixtureWindows } from '../helpers/fixture';

let big: Gpu;
let tiny: Gpu;
let small: Gpu;
beforeAll(async () => {
  big = await testGpu();
  tiny = await Gpu.create(await nodeGpu(), { politeWait: true, submitBudget: 2e5 });
  // 2e6 still splits every kernel family below on stories260K, in a tenth of the submits (test time)
  small = await Gpu.create(await nodeGpu(), { politeWait: true, submitBudget: 2e6 });
});

async function run(gpu: Gpu, opts: PruneModelOptions): Promise<{ weights: Map<string, Float32Array>; nll: Float32Array[] }> {
  const { cfg, ckpt } = await fixtureCheckpoint();
  const model = await LlamaModel.load(gpu, cfg, ckpt, { resident: true });
  const weights = new Map<string, Float32Array>();
  await pruneModel(model, await fixtureWindows('calib-en.safetensors'), { ...opts, onMatrixPruned: (i, n, w) => void weights.set(`${i}.${n}`, w) });
  const { ids, n, seqlen } = await fixtureWindows('eval-en.safetensors');
  const nll = await model.tokenNll(Array.from({ length: n }, (_, i) => ids.slice(i * seqlen, (i + 1) * seqlen)));
  model.destroy();
  await ckpt.close();
  return { weights, nll };
}

describe('GPU submit budget', () => {
  // Every kernel family counts its work (the dispatch wrapper's estimate is required): SparseGPT runs
  // the matmul, Hessian-update and trailing-GEMM splits and its column loop by row slices; Wanda its
  // statistics and the row selection by row slices; RIA 2:4 its column sums, scores and the N:M
  // selection by row slices; the magnitude prune its histogram passes; GPTQ its parameters and column
  // loop by row slices; the reconstruction error its difference and dot products.
  const cases: [string, PruneModelOptions, () => Gpu, string][] = [
    ['SparseGPT 50 %', { method: 'sparsegpt', sparsity: 0.5 }, () => tiny, '2e5'],
    ['Wanda 50 % with reconstruction error', { method: 'wanda', sparsity: 0.5, reconstructionError: true }, () => small, '2e6'],
    ['RIA 2:4', { method: 'ria', nm: { n: 2, m: 4 } }, () => small, '2e6'],
    ['magnitude 50 %', { method: 'magnitude', sparsity: 0.5 }, () => small, '2e6'],
    ['GPTQ 4-bit, groups of 32', { method: 'gptq', quantize: { bits: 4, groupSize: 32 } }, () => small, '2e6'],
  ];
  for (const [what, opts, gpuOf, budget] of cases) {
    it(`${what} on stories260K under a ${budget}-flop budget: bitwise the default's weights and losses, in many small submits`, async () => {
      const gpu = gpuOf();
      const before = gpu.submits();
      const a = await run(big, opts);
      const b = await run(gpu, opts);
      expect(b.weights.size).toBe(35);
      for (const [k, w] of a.weights) expect(b.weights.get(k), k).toEqual(w);
      expect(b.nll).toEqual(a.nll);
      const s = gpu.submits();
      const counts = JSON.stringify({ budgetSubmits: s.budgetSubmits - before.budgetSubmits, splitDispatches: s.splitDispatches - before.splitDispatches });
      expect(s.budgetSubmits - before.budgetSubmits, counts).toBeGreaterThan(50);
      expect(s.splitDispatches - before.splitDispatches, counts).toBeGreaterThan(10);
      expect(big.submits().splitDispatches).toBe(0);
    });
  }

  it('matvec (token-by-token generation) splits its output rows within a 2e5-flop budget: the same numbers in several dispatches', async () => {
    const ops = await import('../../src/gpu/ops');
    const { refLinear } = await import('../../src/model/reference');
    const M = 1, K = 32, N = 512;
    const x = Float32Array.from({ length: M * K }, (_, i) => Math.sin(i)), w = Float32Array.from({ length: N * K }, (_, i) => Math.cos(i * 0.37));
    const tx = tiny.upload(x, [M, K]), tw = tiny.upload(w, [N, K]), ty = tiny.tensor([M, N]);
    const before = { n: tiny.dispatches()['nn/matvec'] ?? 0, over: tiny.submits().oversizedDispatches };
    ops.matvec(tiny, tx, M, { rows: N, cols: K, chunks: [{ tensor: tw, rowStart: 0, rows: N }] }, ty);
    const got = await tiny.readF32(ty);
    expect(tiny.dispatches()['nn/matvec'] - before.n).toBe(8); // 64 output rows each
    expect(tiny.submits().oversizedDispatches).toBe(before.over);
    const ref = refLinear(x, M, K, w, N);
    got.forEach((v, i) => expect(Math.abs(v - ref[i])).toBeLessThan(1e-5 * (1 + Math.abs(ref[i]))));
    [tx, tw, ty].forEach((t) => t.destroy());
  });

  it("the factorizations' lower-triangular update (K = 128 in chunks of 32) splits into row slices within a 2e5-flop budget: bitwise the one-dispatch result", async () => {
    const { gemmSub } = await import('../../src/prune/sparsegpt');
    const d = 300, k0 = 20, t0 = k0 + 128, rest = d - t0;
    const c = Float32Array.from({ length: d * d }, (_, i) => Math.sin(i * 0.731));
    const results: Float32Array[] = [];
    for (const g of [big, tiny]) {
      const tc = g.upload(c, [d, d]);
      const spare = g.tensor([4]);
      const before = g.dispatches()['prune/linalg_gemm'] ?? 0;
      gemmSub(g, 'c', 'c', tc, { M: rest, N: rest, K: 128, kChunk: 32, lda: d, ldb: d, ldc: d, aOff: t0 * d + k0, bOff: t0 * d + k0, cOff: t0 * d + t0, bTrans: true, lower: true }, spare);
      results.push(await g.readF32(tc));
      const n = g.dispatches()['prune/linalg_gemm'] - before;
      if (g === big) expect(n).toBe(1);
      else expect(n).toBe(3); // 152 rows: slices of 64, 64, 24
      [tc, spare].forEach((t) => t.destroy());
    }
    expect(results[1]).toEqual(results[0]);
    // the upper triangle of the updated block is untouched
    expect(results[1][t0 * d + t0 + 1]).toBe(c[t0 * d + t0 + 1]);
  });

  it('refuses a budget of 0, a negative one or a non-number, saying what to give', async () => {
    for (const bad of [0, -1, NaN, 'x']) {
      await expect(Gpu.create(await nodeGpu(), { submitBudget: bad as number })).rejects.toMatchObject({ code: 'BAD_ARGUMENT', message: expect.stringMatching(/GPU submit budget must be a positive number of flops per submit \(for example 1e12/) });
      expect(() => new LocalEngine({ gpu: nodeGpu, gpuSubmitBudget: bad as number })).toThrow(/must be a positive number of flops/);
    }
  });

  it('a device lost mid-run ends the prune with GPU_DEVICE_LOST (no hang), and the engine says so again on the next call', async () => {
    const { cfg, ckpt } = await fixtureCheckpoint();
    // submits a load takes, so that the loss comes during the prune
    const counter = await Gpu.create(await nodeGpu(), { politeWait: true });
    (await LlamaModel.load(counter, cfg, ckpt, { resident: true })).destroy();
    const loadSubmits = counter.submits().submits;
    counter.destroy();
    const gpu = await Gpu.create(await nodeGpu(), { politeWait: true, loseDeviceAfterSubmits: loadSubmits + 30 });
    const model = await LlamaModel.load(gpu, cfg, ckpt, { resident: true });
    await expect(pruneModel(model, await fixtureWindows('calib-en.safetensors'), { method: 'wanda', sparsity: 0.5 })).rejects.toMatchObject({
      code: 'GPU_DEVICE_LOST',
      message: expect.stringMatching(/The GPU device was lost .*Run it again on a new device/),
    });
    await expect(model.tokenNll([new Int32Array([1, 2, 3])])).rejects.toMatchObject({ code: 'GPU_DEVICE_LOST' });
    await ckpt.close();
  });
});

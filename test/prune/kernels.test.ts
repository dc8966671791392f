import { describe, it, expect, beforeAll } from 'vitest';
import type { Gpu } from '../../src/gpu/device';
import type { ChunkedMatrix } from '../../src/gpu/ops';
import { countZeros } from '../../src/gpu/prune';
import { WandaAccumulator, HessianAccumulator, refWandaScaler, refHessian } from '../../src/prune/stats';
import { wandaPrune, refRowMask, refWandaScore } from '../../src/prune/wanda';
import { magnitudePrune, refMagnitudeMask } from '../../src/prune/magnitude';
import { testGpu, randn, expectClose, uploadRowChunks, readRowChunks } from '../helpers/gpu';

let gpu: Gpu;
beforeAll(async () => {
  gpu = await testGpu();
});

/** A matrix split into row chunks of `chunkRows` (to exercise multi-chunk paths). */
const chunked = (w: Float32Array, rows: number, cols: number, chunkRows: number): ChunkedMatrix => uploadRowChunks(gpu, w, rows, cols, chunkRows);
const readChunked = (m: ChunkedMatrix): Promise<Float32Array> => readRowChunks(gpu, m, { destroy: true });

function maskOf(w: Float32Array): Uint8Array {
  return Uint8Array.from(w, (v) => (v === 0 ? 0 : 1));
}

function expectMask(got: Float32Array, dense: Float32Array, mask: Uint8Array): void {
  let flips = 0;
  for (let i = 0; i < mask.length; i++) {
    if ((got[i] !== 0 ? 1 : 0) !== mask[i]) flips++;
    if (mask[i] && got[i] !== dense[i]) throw new Error(`kept entry ${i} changed: ${got[i]} != ${dense[i]}`);
  }
  expect(flips).toBe(0);
}

describe('statistics kernels', () => {
  it('wanda_stats matches the fp32 running-update reference over two batches', async () => {
    const K = 70;
    const S = 19;
    const x = randn(5 * S * K, 11, 2);
    const acc = new WandaAccumulator(gpu, K);
    const a = gpu.upload(x.slice(0, 2 * S * K), [2 * S, K]);
    const b = gpu.upload(x.slice(2 * S * K), [3 * S, K]);
    acc.addBatch(a, 2 * S, 2);
    acc.addBatch(b, 3 * S, 3);
    const got = await gpu.readF32(acc.scaler);
    expectClose(got, refWandaScaler(x, 5, S, K), 0, 2e-6, 'scaler_row');
    expect(acc.nsamples).toBe(5);
    a.destroy();
    b.destroy();
    acc.free();
  });

  it('hessian matches the reference (K not a multiple of 64, S not a multiple of 16) and is symmetric', async () => {
    const K = 77;
    const S = 21;
    const x = randn(3 * S * K, 5, 1);
    const acc = new HessianAccumulator(gpu, K);
    const t = gpu.upload(x, [3 * S, K]);
    acc.addBatch(t, S, 1);
    acc.addBatch(t, 2 * S, 2, S);
    const H = await gpu.readF32(acc.H);
    expectClose(H, refHessian(x, 3, S, K), 1e-5, 1e-5, 'H');
    for (let p = 0; p < K; p++) for (let q = 0; q < p; q++) expect(H[p * K + q]).toBe(H[q * K + p]);
    t.destroy();
    acc.free();
  });
});

describe('selection kernels', () => {
  it('wanda unstructured: exact per-row selection with ties broken by lower column', async () => {
    const N = 37;
    const K = 300;
    const w = randn(N * K, 3);
    // Plant ties: repeated magnitudes (with sign flips) in every row, and a row of equal values.
    for (let r = 0; r < N; r++) for (let c = 0; c < K; c += 7) w[r * K + c] = (c % 2 ? -1 : 1) * 0.25;
    for (let c = 0; c < K; c++) w[5 * K + c] = c % 3 ? 0.5 : -0.5;
    const scaler = randn(K, 9, 1).map((v) => v * v + 0.1);
    for (let c = 0; c < K; c += 7) scaler[c] = 4; // the tied entries score equal within a row
    const sc = gpu.upload(scaler, [K]);
    for (const sparsity of [0.5, 0.37, 0.9]) {
      const m = chunked(w, N, K, 16);
      await wandaPrune(gpu, m, sc, { sparsity });
      const got = await readChunked(m);
      const want = refRowMask(refWandaScore(w, scaler, N, K), N, K, { sparsity });
      expectMask(got, w, want);
    }
    sc.destroy();
  });

  it('wanda unstructured with several rows per workgroup (CPU adapters: RPW > 1, the last workgroup partly past the rows): the same exact selection', async () => {
    const { tilesPerGroup } = await import('../../src/gpu/ops');
    const N = 102;
    const K = 300;
    expect(gpu.info.cpu).toBe(true); // lavapipe
    expect(tilesPerGroup(gpu, N, 1)).toBe(4); // 26 workgroups, the last with 2 rows
    const w = randn(N * K, 31);
    for (let r = 0; r < N; r++) for (let c = 0; c < K; c += 7) w[r * K + c] = (c % 2 ? -1 : 1) * 0.25;
    const scaler = randn(K, 32, 1).map((v) => v * v + 0.1);
    for (let c = 0; c < K; c += 7) scaler[c] = 4;
    const sc = gpu.upload(scaler, [K]);
    for (const sparsity of [0.5, 0.9]) {
      const m = chunked(w, N, K, N);
      await wandaPrune(gpu, m, sc, { sparsity });
      expectMask(await readChunked(m), w, refRowMask(refWandaScore(w, scaler, N, K), N, K, { sparsity }));
    }
    sc.destroy();
  });

  it('wanda unstructured on short rows (row_select_short, K <= 256): the same exact selection and ties', async () => {
    for (const [N, K] of [[9, 64], [7, 172], [5, 256], [3, 5]] as const) {
      const w = randn(N * K, 11 + K);
      for (let r = 0; r < N; r++) for (let c = 0; c < K; c += 5) w[r * K + c] = (c % 2 ? -1 : 1) * 0.25;
      for (let c = 0; c < K; c++) w[2 * K + c] = c % 3 ? 0.5 : -0.5; // a row of equal magnitudes
      const scaler = randn(K, 13 + K, 1).map((v) => v * v + 0.1);
      for (let c = 0; c < K; c += 5) scaler[c] = 4;
      const sc = gpu.upload(scaler, [K]);
      for (const sparsity of [0.5, 0.37, 0.9]) {
        const m = chunked(w, N, K, 4);
        await wandaPrune(gpu, m, sc, { sparsity });
        const got = await readChunked(m);
        const want = refRowMask(refWandaScore(w, scaler, N, K), N, K, { sparsity });
        expectMask(got, w, want);
      }
      sc.destroy();
    }
  });

  it('wanda N:M: 2:4 and 1:4 masks keep n of every m, equal to the reference', async () => {
    const N = 20;
    const K = 64;
    const w = randn(N * K, 21);
    const scaler = randn(K, 22).map((v) => v * v + 0.05);
    const sc = gpu.upload(scaler, [K]);
    for (const nm of [
      { n: 2, m: 4 },
      { n: 1, m: 4 },
      { n: 3, m: 8 },
    ]) {
      const m = chunked(w, N, K, 8);
      await wandaPrune(gpu, m, sc, { nm });
      const got = await readChunked(m);
      const want = refRowMask(refWandaScore(w, scaler, N, K), N, K, { nm });
      expectMask(got, w, want);
      for (let r = 0; r < N; r++) for (let g = 0; g < K; g += nm.m) expect(Array.from(got.subarray(r * K + g, r * K + g + nm.m)).filter((v) => v !== 0).length).toBe(nm.n);
    }
    sc.destroy();
  });

  it('magnitude: whole-matrix threshold across chunks prunes floor(numel*r)+1', async () => {
    const N = 91;
    const K = 33;
    const w = randn(N * K, 17);
    // the GPU radix select and the CPU selection (taken on CPU adapters) give the same mask
    for (const select of ['gpu', 'cpu'] as const) {
      for (const sparsity of [0.5, 0.123, 0.999]) {
        const m = chunked(w, N, K, 20);
        await magnitudePrune(gpu, m, null, { sparsity }, select);
        const got = await readChunked(m);
        const want = refMagnitudeMask(w, sparsity);
        expectMask(got, w, want);
        expect(maskOf(got).filter((v) => v === 0).length).toBe(Math.floor(N * K * sparsity) + 1);
      }
    }
  });

  it('count_zeros counts exact zeros into a slot', async () => {
    const w = randn(1000, 4);
    for (let i = 0; i < 1000; i += 3) w[i] = i % 2 ? -0 : 0;
    const t = gpu.upload(w, [1000]);
    const counter = gpu.upload(new Uint32Array(3), [3]);
    countZeros(gpu, t, 1000, counter, 1);
    countZeros(gpu, t, 500, counter, 2);
    const c = await gpu.read(counter);
    expect(Array.from(c)).toEqual([0, 334, 167]);
    t.destroy();
    counter.destroy();
  });
});

/**
 * RIA (Zhang et al. 2024): the WGSL score and selection against the float64 TypeScript reference on
 * random matrices (row chunks, short and long rows, a zero column, N:M).
 */
import { describe, it, expect, beforeAll } from 'vitest';
import type { Gpu } from '../../src/gpu/device';
import { riaColSums, riaScore } from '../../src/gpu/prune';
import { refRowMask, refWandaScore } from '../../src/prune/wanda';
import { refRiaScore, riaActivation, riaPrune } from '../../src/prune/ria';
import { testGpu, randn, expectClose, uploadRowChunks, readRowChunks } from '../helpers/gpu';

let gpu: Gpu;
beforeAll(async () => {
  gpu = await testGpu();
});

function flips(got: Float32Array, dense: Float32Array, keep: Uint8Array): number {
  let n = 0;
  for (let i = 0; i < keep.length; i++) {
    if ((got[i] !== 0 ? 1 : 0) !== keep[i]) n++;
    if (keep[i] && got[i] !== dense[i]) throw new Error(`kept entry ${i} changed: ${got[i]} != ${dense[i]}`);
  }
  return n;
}

describe('RIA kernels', () => {
  it('ria_col_sums + ria_score over row chunks equal the float64 score (a zero column scores 0)', async () => {
    const N = 45, K = 300;
    const w = randn(N * K, 31);
    for (let r = 0; r < N; r++) w[r * K + 7] = 0; // a dead input column
    const scaler = randn(K, 32).map((v) => v * v + 0.01);
    const m = uploadRowChunks(gpu, w, N, K, 16);
    const act = gpu.upload(riaActivation(scaler, 0.5), [K]);
    const colsum = gpu.tensor([K], 'f32');
    m.chunks.forEach((ch, i) => riaColSums(gpu, ch.tensor, colsum, ch.rows, K, i > 0));
    const got = new Float32Array(N * K);
    for (const ch of m.chunks) {
      const score = gpu.tensor([ch.rows, K], 'f32');
      riaScore(gpu, colsum, act, ch.tensor, score, ch.rows, K);
      got.set(await gpu.readF32(score), ch.rowStart * K);
      score.destroy();
    }
    const want = refRiaScore(w, scaler, N, K, 0.5);
    expectClose(got, Float32Array.from(want), 0, 2e-6, 'ria score');
    for (let r = 0; r < N; r++) expect(got[r * K + 7]).toBe(0);
    [act, colsum].forEach((t) => t.destroy());
    await readRowChunks(gpu, m, { destroy: true });
  });

  it('unstructured per output row (long and short rows) and N:M: masks equal the float64 reference', async () => {
    for (const [N, K, chunkRows] of [[37, 300, 16], [9, 172, 4], [64, 64, 64]] as const) {
      const w = randn(N * K, 40 + K);
      const scaler = randn(K, 41 + K).map((v) => v * v + 0.05);
      const sc = gpu.upload(scaler, [K]);
      const score = refRiaScore(w, scaler, N, K);
      for (const opts of [{ sparsity: 0.5 }, { sparsity: 0.7 }, { nm: { n: 2, m: 4 } }, { nm: { n: 1, m: 4 } }]) {
        const m = uploadRowChunks(gpu, w, N, K, chunkRows);
        await riaPrune(gpu, m, sc, opts);
        const got = await readRowChunks(gpu, m, { destroy: true });
        expect(flips(got, w, refRowMask(score, N, K, opts)), `${N}x${K} ${JSON.stringify(opts)}`).toBe(0);
      }
      sc.destroy();
    }
  });

  it('the masks are not Wanda\'s: the relative-importance term moves them', async () => {
    const N = 16, K = 64;
    const w = randn(N * K, 77);
    for (let c = 0; c < K; c++) w[c] *= 20; // one row of large weights: Wanda and RIA weigh it differently
    const scaler = randn(K, 78).map((v) => v * v + 0.05);
    const sc = gpu.upload(scaler, [K]);
    const m = uploadRowChunks(gpu, w, N, K, N);
    await riaPrune(gpu, m, sc, { sparsity: 0.5 });
    const got = await readRowChunks(gpu, m, { destroy: true });
    sc.destroy();
    const ria = refRowMask(refRiaScore(w, scaler, N, K), N, K, { sparsity: 0.5 });
    const wanda = refRowMask(refWandaScore(w, scaler, N, K), N, K, { sparsity: 0.5 });
    expect(flips(got, w, ria)).toBe(0);
    expect(ria.some((k, i) => k !== wanda[i])).toBe(true);
  });
});

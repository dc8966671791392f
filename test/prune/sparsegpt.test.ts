import { describe, it, expect, beforeAll } from 'vitest';
import type { Gpu } from '../../src/gpu/device';
import type { ChunkedMatrix } from '../../src/gpu/ops';
import { PolyPruneError } from '../../src/common/errors';
import { choleskyLower, controlBlock, checkCholeskyStatus, triangularInverseLower, inverseHessianFactor, selectKth, gemmSub, sparsegptPrune, CTL } from '../../src/prune/sparsegpt';
import { testGpu, randn, expectClose, uploadRowChunks, readRowChunks } from '../helpers/gpu';
import { cholLower64, triInvLower64, dampen64, hinvUpper64, sparsegptRef64, randomHessian } from './sparsegpt-ref';

let gpu: Gpu;
beforeAll(async () => {
  gpu = await testGpu();
});

const seeded = (seed: number) => (k: number) => randn(k, seed);

function identity(d: number): Float32Array {
  const x = new Float32Array(d * d);
  for (let i = 0; i < d; i++) x[i * d + i] = 1;
  return x;
}

function lowerPart(a: ArrayLike<number>, d: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < d; i++) for (let j = 0; j <= i; j++) out.push(a[i * d + j]);
  return out;
}

function maxAbs(a: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]));
  return m;
}

/** W split into row chunks of the given sizes. */
const uploadChunked = (w: Float32Array, rows: number, cols: number, sizes: number[]): ChunkedMatrix => uploadRowChunks(gpu, w, rows, cols, sizes);
const readChunked = (m: ChunkedMatrix): Promise<Float32Array> => readRowChunks(gpu, m);

function destroyChunked(m: ChunkedMatrix): void {
  for (const ch of m.chunks) ch.tensor.destroy();
}

/** Mask agreement and relative Frobenius error of the weights where both masks keep the weight. */
function compareMasks(got: ArrayLike<number>, want: ArrayLike<number>, wantKept: ArrayLike<number>): { agreement: number; relFro: number; flips: number } {
  let same = 0;
  let num = 0;
  let den = 0;
  for (let i = 0; i < want.length; i++) {
    const gk = got[i] !== 0 ? 1 : 0;
    if (gk === wantKept[i]) {
      same++;
      if (gk) {
        num += (got[i] - want[i]) ** 2;
        den += want[i] ** 2;
      }
    }
  }
  return { agreement: same / want.length, relFro: Math.sqrt(num / den), flips: want.length - same };
}

describe('SparseGPT linear algebra kernels against a float64 reference', () => {
  it('blocked Cholesky (d = 150, 5 panels, ragged last panel)', async () => {
    const d = 150;
    const h = randomHessian(d, 2 * d, seeded(11), 0.05);
    const ta = gpu.upload(Float32Array.from(h), [d, d], 'a');
    const ctl = controlBlock(gpu);
    choleskyLower(gpu, ta, d, ctl);
    await checkCholeskyStatus(gpu, ctl, 'test');
    const got = await gpu.readF32(ta);
    const want = cholLower64(Float32Array.from(h), d);
    expectClose(lowerPart(got, d), lowerPart(want, d), 2e-6 * maxAbs(want), 1e-4, 'cholesky L');
    // Upper triangle untouched.
    expect(got[1]).toBe(Math.fround(h[1]));
    ta.destroy();
    ctl.destroy();
  });

  it('blocked lower-triangular inverse (d = 97)', async () => {
    const d = 97;
    const l = Float32Array.from(cholLower64(randomHessian(d, 3 * d, seeded(12), 0.1), d));
    const tl = gpu.upload(l, [d, d], 'l');
    const tx = gpu.upload(identity(d), [d, d], 'x');
    triangularInverseLower(gpu, tl, tx, d);
    const got = await gpu.readF32(tx);
    const want = triInvLower64(l, d);
    expectClose(got, want, 2e-6 * maxAbs(want), 1e-4, 'L^-1');
    [tl, tx].forEach((t) => t.destroy());
  });

  it('super-blocks: deferred trailing updates (K = 64, 128 in chunks of 32) give bitwise the factor and inverse of 32-column steps (d = 300)', async () => {
    const d = 300;
    const h = Float32Array.from(randomHessian(d, 2 * d, seeded(41), 0.05));
    const results: Float32Array[][] = [];
    for (const sb of [32, 64, 128]) {
      const ta = gpu.upload(h, [d, d], 'a');
      const tx = gpu.upload(identity(d), [d, d], 'x');
      const ctl = controlBlock(gpu);
      choleskyLower(gpu, ta, d, ctl, sb);
      await checkCholeskyStatus(gpu, ctl, 'test');
      triangularInverseLower(gpu, ta, tx, d, sb);
      results.push([await gpu.readF32(ta), await gpu.readF32(tx)]);
      [ta, tx, ctl].forEach((t) => t.destroy());
    }
    expect(results[1][0]).toEqual(results[0][0]);
    expect(results[2][0]).toEqual(results[0][0]);
    expect(results[1][1]).toEqual(results[0][1]);
    expect(results[2][1]).toEqual(results[0][1]);
    // and they are the factor and inverse, not merely equal to each other
    const want = cholLower64(h, d);
    expectClose(lowerPart(results[2][0], d), lowerPart(want, d), 2e-6 * maxAbs(want), 1e-4, 'cholesky L');
    const wantInv = triInvLower64(results[2][0], d);
    expectClose(results[2][1], wantInv, 2e-6 * maxAbs(wantInv), 1e-4, 'L^-1');
  });

  it('gemm with kChunk: C -= A B with K = 80 in chunks of 16 is bitwise five K = 16 updates in a row', async () => {
    const M = 70, N = 90, K = 80;
    const a = randn(M * K, 42), b = randn(K * N, 43), c = randn(M * N, 44);
    const ta = gpu.upload(a, [M * K]), tb = gpu.upload(b, [K * N]);
    const tc1 = gpu.upload(c, [M * N]), tc2 = gpu.upload(c, [M * N]);
    gemmSub(gpu, ta, tb, tc1, { M, N, K, kChunk: 16, lda: K, ldb: N, ldc: N, aOff: 0, bOff: 0, cOff: 0 });
    for (let k0 = 0; k0 < K; k0 += 16) gemmSub(gpu, ta, tb, tc2, { M, N, K: 16, lda: K, ldb: N, ldc: N, aOff: k0, bOff: k0 * N, cOff: 0 });
    const got = await gpu.readF32(tc1);
    expect(got).toEqual(await gpu.readF32(tc2));
    // one sum over all of K rounds differently: the chunks are real
    const tc3 = gpu.upload(c, [M * N]);
    gemmSub(gpu, ta, tb, tc3, { M, N, K, lda: K, ldb: N, ldc: N, aOff: 0, bOff: 0, cOff: 0 });
    expect(await gpu.readF32(tc3)).not.toEqual(got);
    expect(() => gemmSub(gpu, ta, tb, tc1, { M, N, K, kChunk: 24, lda: K, ldb: N, ldc: N, aOff: 0, bOff: 0, cOff: 0 })).toThrow(/not a multiple/);
    [ta, tb, tc1, tc2, tc3].forEach((t) => t.destroy());
  });

  it('U = upper Cholesky factor of (dampened H)^-1, with a dead column (d = 200)', async () => {
    const d = 200;
    const h = randomHessian(d, d + 40, seeded(13));
    for (let i = 0; i < d; i++) h[i * d + 77] = h[77 * d + i] = 0; // dead input 77
    const th = gpu.upload(Float32Array.from(h), [d, d], 'h');
    const ctl = controlBlock(gpu);
    const tu = await inverseHessianFactor(gpu, th, d, 0.01, ctl);
    const got = await gpu.readF32(tu);
    const want = hinvUpper64(dampen64(Float32Array.from(h), d, 0.01).hd, d);
    expectClose(got, want, 1e-5 * maxAbs(want), 2e-4, 'U');
    for (let i = 0; i < d; i++) for (let j = 0; j < i; j++) expect(got[i * d + j]).toBe(0);
    [th, tu, ctl].forEach((t) => t.destroy());
  });

  it('gemm C -= A B^T (lower, from C) and C -= A B (offsets, strides)', async () => {
    const d = 90, k0 = 10, nb = 13, t0 = k0 + nb, rest = d - t0;
    const c = randn(d * d, 14);
    const tc = gpu.upload(c, [d, d], 'c');
    const spare = gpu.tensor([4], 'f32', 'spare');
    gemmSub(gpu, 'c', 'c', tc, { M: rest, N: rest, K: nb, lda: d, ldb: d, ldc: d, aOff: t0 * d + k0, bOff: t0 * d + k0, cOff: t0 * d + t0, bTrans: true, lower: true }, spare);
    const want = Float64Array.from(c);
    for (let i = 0; i < rest; i++) {
      for (let j = 0; j <= i; j++) {
        let s = 0;
        for (let k = 0; k < nb; k++) s += c[(t0 + i) * d + k0 + k] * c[(t0 + j) * d + k0 + k];
        want[(t0 + i) * d + t0 + j] -= s;
      }
    }
    expectClose(await gpu.readF32(tc), want, 1e-5, 1e-5, 'syrk-lower');

    const M = 70, N = 81, K = 37, lda = 40, ldb = 100, ldc = 120;
    const a = randn(M * lda + 5, 15), b = randn(K * ldb + 9, 16), c2 = randn(M * ldc, 17);
    const ta = gpu.upload(a, [a.length]), tb = gpu.upload(b, [b.length]), tc2 = gpu.upload(c2, [c2.length]);
    gemmSub(gpu, ta, tb, tc2, { M, N, K, lda, ldb, ldc, aOff: 3, bOff: 7, cOff: 20 });
    const want2 = Float64Array.from(c2);
    for (let i = 0; i < M; i++) {
      for (let j = 0; j < N; j++) {
        let s = 0;
        for (let k = 0; k < K; k++) s += a[3 + i * lda + k] * b[7 + k * ldb + j];
        want2[20 + i * ldc + j] -= s;
      }
    }
    expectClose(await gpu.readF32(tc2), want2, 1e-5, 1e-5, 'gemm');
    [tc, spare, ta, tb, tc2].forEach((t) => t.destroy());
  });

  it('radix select gives sort(keys)[k], with many ties', async () => {
    const n = 20011;
    const vals = randn(n, 18).map((v) => Math.round(v * 300) ** 2 / 7); // non-negative, heavily tied
    const keys = new Uint32Array(vals.buffer.slice(0));
    const tk = gpu.upload(keys, [n], 'keys');
    const ctl = controlBlock(gpu);
    const sorted = Float32Array.from(vals).sort();
    for (const k of [0, 1, 777, Math.floor(n * 0.5), n - 2, n - 1]) {
      selectKth(gpu, tk, n, k, ctl);
      const prefix = (await gpu.read(ctl, CTL.PREFIX, 1))[0] >>> 0;
      expect(new Float32Array(new Uint32Array([prefix]).buffer)[0]).toBe(sorted[k]);
    }
    const hist = await gpu.read(ctl, CTL.HIST, 256);
    expect(Array.from(hist).every((v) => v === 0)).toBe(true);
    [tk, ctl].forEach((t) => t.destroy());
  });
});

describe('sparsegptPrune against the float64 reference on random data', () => {
  const rows = 70, d = 150;
  const cases: Array<{ name: string; opts: { sparsity?: number; nm?: { n: number; m: number }; blocksize?: number } }> = [
    { name: 'unstructured 0.5, blocksize 128 (blocks 128 + 22)', opts: { sparsity: 0.5 } },
    { name: 'unstructured 0.6, blocksize 64 (blocks 64 + 64 + 22)', opts: { sparsity: 0.6, blocksize: 64 } },
    { name: '2:4, blocksize 128', opts: { nm: { n: 2, m: 4 } } },
    { name: '1:8 (blocksize 64 leaves a ragged 6-column group)', opts: { nm: { n: 1, m: 8 }, blocksize: 64 } },
  ];
  for (const c of cases) {
    it(c.name, async () => {
      const w = randn(rows * d, 21);
      const h = randomHessian(d, 2 * d, seeded(22));
      const W = uploadChunked(w, rows, d, [32, 38]);
      const th = gpu.upload(Float32Array.from(h), [d, d], 'h');
      const { zeros } = await sparsegptPrune(gpu, W, th, c.opts);
      const got = await readChunked(W);
      const ref = sparsegptRef64(w, rows, d, Float32Array.from(h), c.opts);
      const cmp = compareMasks(got, ref.w, ref.mask);
      let refZeros = 0;
      ref.mask.forEach((m) => (refZeros += 1 - m));
      let gotZeros = 0;
      got.forEach((v) => (gotZeros += v === 0 ? 1 : 0));
      expect(gotZeros).toBe(zeros);
      expect(cmp.flips).toBe(0);
      expect(zeros).toBe(refZeros);
      expect(cmp.relFro).toBeLessThan(2e-5);
      if (c.opts.nm) {
        const { n, m } = c.opts.nm;
        const bs = c.opts.blocksize ?? 128;
        for (let r = 0; r < rows; r++) {
          for (let b0 = 0; b0 < d; b0 += bs) {
            for (let g = b0; g < Math.min(b0 + bs, d); g += m) {
              const len = Math.min(m, Math.min(b0 + bs, d) - g);
              let kept = 0;
              for (let j = g; j < g + len; j++) kept += got[r * d + j] !== 0 ? 1 : 0;
              expect(kept).toBe(len - Math.min(m - n, len));
            }
          }
        }
      } else {
        // floor(numel * r) + 1 per block (no ties in random data).
        const bs = c.opts.blocksize ?? 128;
        let expected = 0;
        for (let b0 = 0; b0 < d; b0 += bs) expected += Math.floor(rows * Math.min(bs, d - b0) * c.opts.sparsity!) + 1;
        expect(zeros).toBe(expected);
      }
      destroyChunked(W);
      th.destroy();
    });
  }

  it('dead inputs: columns with diag(H) == 0 are zeroed and pruned first', async () => {
    const r = 20, dd = 40;
    const w = randn(r * dd, 23);
    const h = randomHessian(dd, 80, seeded(24));
    for (const j of [3, 31]) for (let i = 0; i < dd; i++) h[i * dd + j] = h[j * dd + i] = 0;
    const W = uploadChunked(w, r, dd, [r]);
    const th = gpu.upload(Float32Array.from(h), [dd, dd], 'h');
    await sparsegptPrune(gpu, W, th, { sparsity: 0.3 });
    const got = await readChunked(W);
    const ref = sparsegptRef64(w, r, dd, Float32Array.from(h), { sparsity: 0.3 });
    for (let i = 0; i < r; i++) for (const j of [3, 31]) expect(got[i * dd + j]).toBe(0);
    const cmp = compareMasks(got, ref.w, ref.mask);
    expect(cmp.flips).toBe(0);
    expect(cmp.relFro).toBeLessThan(2e-5);
    destroyChunked(W);
    th.destroy();
  });

  it('a Hessian that is not positive definite fails with BAD_ARGUMENT and leaves W untouched', async () => {
    const r = 8, dd = 40;
    const w = randn(r * dd, 25);
    const W = uploadChunked(w, r, dd, [r]);
    const h = randomHessian(dd, 80, seeded(26));
    h[5 * dd + 5] = -1e3; // indefinite even after dampening
    const th = gpu.upload(Float32Array.from(h), [dd, dd], 'h');
    const err = await sparsegptPrune(gpu, W, th, {}).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PolyPruneError);
    expect((err as PolyPruneError).code).toBe('BAD_ARGUMENT');
    expect((err as PolyPruneError).message).toMatch(/not positive definite/);
    expect(Array.from(await readChunked(W))).toEqual(Array.from(w));
    const hn = Float32Array.from(randomHessian(dd, 80, seeded(27)));
    hn[7] = NaN;
    hn[7 * dd] = NaN;
    const tn = gpu.upload(hn, [dd, dd], 'hnan');
    await expect(sparsegptPrune(gpu, W, tn, {})).rejects.toMatchObject({ code: 'BAD_ARGUMENT' });
    destroyChunked(W);
    th.destroy();
    tn.destroy();
  });

  it('dispatch count per matrix: unstructured 5P + c + B (3c + 8), N:M 5P + c (2B + 1)', async () => {
    const r = 50, dd = 172; // P = 6 panels, B = 2 blocks, c = 2 chunks
    const h = Float32Array.from(randomHessian(dd, 2 * dd, seeded(30)));
    const th = gpu.upload(h, [dd, dd], 'h');
    const counts: number[] = [];
    for (const opts of [{ sparsity: 0.5 }, { nm: { n: 2, m: 4 } }]) {
      const W = uploadChunked(randn(r * dd, 31), r, dd, [30, 20]);
      const orig = gpu.dispatch.bind(gpu);
      let n = 0;
      gpu.dispatch = (...args: Parameters<Gpu['dispatch']>) => {
        n++;
        orig(...args);
      };
      const live = gpu.memory().liveTensors;
      try {
        await sparsegptPrune(gpu, W, th, opts);
      } finally {
        gpu.dispatch = orig;
      }
      expect(gpu.memory().liveTensors).toBe(live); // scratch released
      counts.push(n);
      destroyChunked(W);
    }
    expect(counts).toEqual([5 * 6 + 2 + 2 * (3 * 2 + 8), 5 * 6 + 2 * (2 * 2 + 1)]);
    th.destroy();
  });

  it('rejects bad options and mismatched shapes', async () => {
    const W = uploadChunked(randn(4 * 8, 28), 4, 8, [4]);
    const th = gpu.upload(Float32Array.from(randomHessian(8, 16, seeded(29))), [8, 8], 'h');
    const t9 = gpu.tensor([9, 9], 'f32', 'h9');
    await expect(sparsegptPrune(gpu, W, th, { sparsity: 1 })).rejects.toMatchObject({ code: 'BAD_ARGUMENT' });
    await expect(sparsegptPrune(gpu, W, th, { nm: { n: 4, m: 4 } })).rejects.toMatchObject({ code: 'BAD_ARGUMENT' });
    await expect(sparsegptPrune(gpu, W, t9, {})).rejects.toMatchObject({ code: 'BAD_ARGUMENT' });
    destroyChunked(W);
    th.destroy();
    t9.destroy();
  });
});

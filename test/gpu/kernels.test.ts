import { describe, it, expect, beforeAll } from 'vitest';
import type { Gpu, Tensor } from '../../src/gpu/device';
import * as ops from '../../src/gpu/ops';
import { refLinear, refRmsnorm, refRope, refAttention } from '../../src/model/reference';
import { testGpu, randn, expectClose } from '../helpers/gpu';

let gpu: Gpu;
beforeAll(async () => {
  gpu = await testGpu();
});

const one = (gpu: Gpu, t: ReturnType<Gpu['tensor']>, rows: number, cols: number): ops.ChunkedMatrix => ({ rows, cols, chunks: [{ tensor: t, rowStart: 0, rows }] });

/** fn with gpu.info's adapter facts (by which kernels choose their form) patched, then restored. */
async function withInfo<T>(patch: { cpu?: boolean; description?: string }, fn: () => Promise<T>): Promise<T> {
  const info = gpu.info as { cpu: boolean; description: string };
  const before = { cpu: info.cpu, description: info.description };
  Object.assign(info, patch);
  try {
    return await fn();
  } finally {
    Object.assign(info, before);
  }
}

/** x W^T by nn/matmul, and c0 - x B by prune/linalg_gemm (x: M x K, W: N x K, B: K x N), read back. */
async function twoProducts(tx: Tensor, tw: Tensor, tb: Tensor, c0: Float32Array, M: number, N: number, K: number): Promise<Float32Array[]> {
  const { gemmSub } = await import('../../src/prune/sparsegpt');
  const ty = gpu.tensor([M, N]);
  ops.matmul(gpu, tx, M, one(gpu, tw, N, K), ty);
  const tc = gpu.upload(c0, [M, N]);
  gemmSub(gpu, tx, tb, tc, { M, N, K, lda: K, ldb: N, ldc: N, aOff: 0, bOff: 0, cOff: 0 });
  const out = [await gpu.readF32(ty), await gpu.readF32(tc)];
  [ty, tc].forEach((t) => t.destroy());
  return out;
}

describe('WGSL kernels against the TypeScript reference', () => {
  it('matmul with bias, beta and odd shapes', async () => {
    const M = 37, K = 71, N = 130;
    const x = randn(M * K, 1), w = randn(N * K, 2), b = randn(N, 3), y0 = randn(M * N, 4);
    const tx = gpu.upload(x, [M, K]), tw = gpu.upload(w, [N, K]), tb = gpu.upload(b, [N]), ty = gpu.upload(y0, [M, N]);
    ops.matmul(gpu, tx, M, one(gpu, tw, N, K), ty, { bias: tb, beta: 1 });
    const got = await gpu.readF32(ty);
    const ref = refLinear(x, M, K, w, N, b).map((v, i) => v + y0[i]);
    expectClose(got, ref, 1e-5, 1e-5, 'matmul');
    [tx, tw, tb, ty].forEach((t) => t.destroy());
  });

  it('matmul tunings (vec4 loads, tile sizes from override constants) give bitwise the same result', async () => {
    // K % 4 == 0: the vec4 path; odd M and N; x read at a row offset (a binding range, as headNll does).
    const M = 45, K = 132, N = 77, off = 16; // 16 rows of 132 floats: a 256-byte aligned offset
    const x = randn((M + off) * K, 11), w = randn(N * K, 12), b = randn(N, 13);
    const tx = gpu.upload(x, [M + off, K]), tw = gpu.upload(w, [N, K]), tb = gpu.upload(b, [N]);
    const xs = { tensor: tx, offsetElems: off * K, numElems: M * K };
    const ref = refLinear(x.subarray(off * K), M, K, w, N, b);
    const run = async (tuning?: ops.MatmulTuning) => {
      const ty = gpu.tensor([M, N]);
      ops.matmul(gpu, xs, M, one(gpu, tw, N, K), ty, { bias: tb, tuning });
      const out = await gpu.readF32(ty);
      ty.destroy();
      return out;
    };
    expect(ops.matmulTuning(gpu, K, off * K).VEC4).toBe(true);
    expect(ops.matmulTuning(gpu, 71, 0).VEC4).toBe(false);
    const scalar = await run(ops.MATMUL_SCALAR);
    expectClose(scalar, ref, 1e-5, 1e-5, 'matmul scalar');
    for (const t of [undefined, { WGX: 16, WGY: 16, TK: 16, VEC4: true }, { WGX: 8, WGY: 8, TK: 16, VEC4: true }, { WGX: 8, WGY: 16, TK: 16, VEC4: false }, { WGX: 16, WGY: 8, TK: 16, VEC4: true }]) {
      const got = await run(t);
      expect(Array.from(got), JSON.stringify(t ?? 'default')).toEqual(Array.from(scalar));
    }
    // Another K step: same values (the padding may only flip the sign of a zero).
    expectClose(await run({ WGX: 16, WGY: 16, TK: 32, VEC4: true }), scalar, 0, 0, 'matmul TK 32');
    [tx, tw, tb].forEach((t) => t.destroy());
  });

  it('several output tiles per workgroup (CPU adapters) give bitwise the one-tile result: matmul and the trailing GEMM, plain, lower and with N past the last tile', async () => {
    const { gemmSub } = await import('../../src/prune/sparsegpt');
    // N 1000: not a multiple of 64 * NT, so the last workgroup has tiles past N.
    const M = 256, K = 40, N = 1000;
    expect(gpu.info.cpu).toBe(true); // lavapipe: the shared path under test
    expect(ops.tilesPerGroup(gpu, Math.ceil(N / 64), Math.ceil(M / 64))).toBeGreaterThan(1);
    const L = 416; // the lower case's C: 384 x 384 below row and column 32, 6 x 6 tiles
    expect(ops.tilesPerGroup(gpu, 6, 6)).toBeGreaterThan(1);
    const x = randn(M * K, 21), w = randn(N * K, 22), c0 = randn(M * N, 23), l0 = randn(L * L, 24);
    const tx = gpu.upload(x, [M, K]), tw = gpu.upload(w, [N, K]), tb = gpu.upload(randn(K * N, 25), [K, N]);
    const run = (cpu: boolean) =>
      withInfo({ cpu }, async () => {
        // lower: C (M x M) -= A A^T on and below the diagonal, A read from C's own columns (the Cholesky's use)
        const tl = gpu.upload(l0, [L, L]);
        gemmSub(gpu, 'c', 'c', tl, { M: L - 32, N: L - 32, K: 32, lda: L, ldb: L, ldc: L, aOff: 32 * L, bOff: 32 * L, cOff: 32 * L + 32, bTrans: true, lower: true }, tx);
        const lower = await gpu.readF32(tl);
        tl.destroy();
        return [...(await twoProducts(tx, tw, tb, c0, M, N, K)), lower];
      });
    const [one1, many] = [await run(false), await run(true)];
    expectClose(one1[0], refLinear(x, M, K, w, N), 1e-5, 1e-5, 'matmul');
    expect(Array.from(one1[1].subarray(0, 8))).not.toEqual(Array.from(c0.subarray(0, 8))); // the GEMM ran
    for (let i = 0; i < 3; i++) expect(Array.from(many[i]), ['matmul', 'gemm', 'lower gemm'][i]).toEqual(Array.from(one1[i]));
    [tx, tw, tb].forEach((t) => t.destroy());
  });

  it("gemm_core's vec4 form (chosen on SwiftShader) gives bitwise the loop form's result: matmul, trailing GEMM, Hessian update", async () => {
    const { hessianUpdate } = await import('../../src/gpu/prune');
    const M = 70, K = 52, N = 130;
    const x = randn(M * K, 41), w = randn(N * K, 42), c0 = randn(M * N, 43);
    const tx = gpu.upload(x, [M, K]), tw = gpu.upload(w, [N, K]), tb = gpu.upload(randn(K * N, 44), [K, N]);
    const coef = gpu.upload(Float32Array.from([0, Math.SQRT2]), [2]);
    const run = (description: string) =>
      withInfo({ description }, async () => {
        const th = gpu.upload(new Float32Array(K * K), [K, K]);
        hessianUpdate(gpu, tx, coef, th, K, 1, M);
        const h = await gpu.readF32(th);
        th.destroy();
        return [...(await twoProducts(tx, tw, tb, c0, M, N, K)), h];
      });
    const loop = await run(gpu.info.description);
    const vec4 = await run('google swiftshader (stand-in for this test)');
    expectClose(loop[0], refLinear(x, M, K, w, N), 1e-5, 1e-5, 'matmul');
    for (let i = 0; i < 3; i++) expect(Array.from(vec4[i]), ['matmul', 'gemm', 'hessian'][i]).toEqual(Array.from(loop[i]));
    [tx, tw, tb, coef].forEach((t) => t.destroy());
  });

  it('matmul over row chunks writes the right output columns', async () => {
    const M = 5, K = 16, N = 200;
    const x = randn(M * K, 5), w = randn(N * K, 6);
    const tx = gpu.upload(x, [M, K]);
    const c1 = gpu.upload(w.subarray(0, 128 * K), [128, K]);
    const c2 = gpu.upload(w.subarray(128 * K), [72, K]);
    const ty = gpu.tensor([M, N]);
    ops.matmul(gpu, tx, M, { rows: N, cols: K, chunks: [{ tensor: c1, rowStart: 0, rows: 128 }, { tensor: c2, rowStart: 128, rows: 72 }] }, ty);
    expectClose(await gpu.readF32(ty), refLinear(x, M, K, w, N), 1e-5, 1e-5, 'chunked matmul');
    [tx, c1, c2, ty].forEach((t) => t.destroy());
  });

  it('matvec (few rows) equals the matmul: f32 and packed weights, bias, beta, row chunks, column offset, offset x', async () => {
    const { encode16 } = await import('../../src/io/dtypes');
    // K 132: vec4 loads; K 71: scalar loads. M up to 6 crosses the four-rows-per-pass step. N 200 in
    // two chunks (128 + 72) written into columns 3.. of a wider output.
    for (const [M, K, off] of [[6, 132, 16], [1, 71, 0]] as const) {
      const N = 200, ld = N + 5, col = 3;
      const x = randn((M + off) * K, 21 + K), w = randn(N * K, 22), b = randn(N, 23), y0 = randn(M * ld, 24);
      const tx = gpu.upload(x, [M + off, K]), tb = gpu.upload(b, [N]);
      const xs = off ? { tensor: tx, offsetElems: off * K, numElems: M * K } : tx;
      for (const format of ['f32', 'bf16', 'f16'] as const) {
        const part = (r0: number, r1: number) => (format === 'f32' ? gpu.upload(w.subarray(r0 * K, r1 * K), [r1 - r0, K]) : gpu.uploadBytes(new Uint8Array(encode16(w.subarray(r0 * K, r1 * K), format).buffer), 'w16'));
        const c1 = part(0, 128), c2 = part(128, N);
        const W: ops.ChunkedMatrix = { rows: N, cols: K, chunks: [{ tensor: c1, rowStart: 0, rows: 128 }, { tensor: c2, rowStart: 128, rows: N - 128 }], ...(format === 'f32' ? {} : { format }) };
        const run = async (matvec: boolean, shape?: { WG: number; LANES: number; VEC4: boolean }) => {
          const ty = gpu.upload(y0, [M, ld]);
          if (matvec) ops.matvec(gpu, xs, M, W, ty, { bias: tb, beta: 1, ldOut: ld, colOffset: col, shape });
          else ops.matmul(gpu, xs, M, W, ty, { bias: tb, beta: 1, ldOut: ld, colOffset: col });
          const out = await gpu.readF32(ty);
          ty.destroy();
          return out;
        };
        const want = await run(false);
        // this adapter's shape (lavapipe: one invocation per row), and a GPU's (K split over lanes, tree sum)
        // (one GPU shape per case and format: each is another pipeline to build, slow on lavapipe)
        for (const shape of [undefined, { WG: 64, LANES: K % 4 ? 8 : 16, VEC4: true }].slice(0, format === 'f16' ? 1 : 2)) {
          const before = gpu.dispatches()['nn/matvec'] ?? 0;
          const got = await run(true, shape);
          expect((gpu.dispatches()['nn/matvec'] ?? 0) - before).toBe(2); // one per chunk
          expectClose(got, want, 1e-5, 1e-5, `matvec M=${M} K=${K} ${format} ${JSON.stringify(shape ?? ops.matvecShape(gpu, K, off * K))}`);
        }
        [c1, c2].forEach((t) => t.destroy());
      }
      [tx, tb].forEach((t) => t.destroy());
    }
  });

  it('rmsnorm', async () => {
    const T = 9, C = 300;
    const x = randn(T * C, 7, 3), w = randn(C, 8);
    const tx = gpu.upload(x, [T, C]), tw = gpu.upload(w, [C]), ty = gpu.tensor([T, C]);
    ops.rmsnorm(gpu, tx, tw, ty, T, C, 1e-5);
    expectClose(await gpu.readF32(ty), refRmsnorm(x, T, C, w, 1e-5), 1e-6, 1e-5, 'rmsnorm');
    [tx, tw, ty].forEach((t) => t.destroy());
  });

  it('rope (rotate_half) with positions restarting per sequence', async () => {
    const S = 11, T = 22, heads = 3, D = 8;
    const v = randn(T * heads * D, 9);
    const inv = new Float32Array(D / 2).map((_, i) => 1 / 10000 ** ((2 * i) / D));
    const tables = ops.ropeTables(inv, S);
    const tv = gpu.upload(v, [T, heads * D]), tc = gpu.upload(tables.cos, [S, D / 2]), ts = gpu.upload(tables.sin, [S, D / 2]);
    ops.rope(gpu, tv, tc, ts, T, S, heads, D);
    const ref = v.slice();
    refRope(ref, T, S, heads, D, inv);
    expectClose(await gpu.readF32(tv), ref, 1e-5, 1e-5, 'rope');
    [tv, tc, ts].forEach((t) => t.destroy());
  });

  it('causal GQA attention over a batch of sequences', async () => {
    const S = 70, B = 2, T = S * B, H = 4, Hkv = 2, D = 16;
    const q = randn(T * H * D, 10), k = randn(T * Hkv * D, 11), v = randn(T * Hkv * D, 12);
    const tq = gpu.upload(q, [T, H * D]), tk = gpu.upload(k, [T, Hkv * D]), tv = gpu.upload(v, [T, Hkv * D]), to = gpu.tensor([T, H * D]);
    ops.attention(gpu, tq, tk, tv, to, T, S, H, Hkv, D);
    expectClose(await gpu.readF32(to), refAttention(q, k, v, T, S, H, Hkv, D), 1e-5, 1e-4, 'attention');
    [tq, tk, tv, to].forEach((t) => t.destroy());
  });

  it('cached prefixes (context sharing): RoPE offsets and attention to cached keys equal the full-sequence run bitwise', async () => {
    const H = 4, Hkv = 2, D = 16, KD = Hkv * D;
    // Two sequences: a prefix of P tokens (cached) and n own tokens; own tokens padded to Sq.
    const seqs = [{ P: 50, n: 9 }, { P: 23, n: 14 }];
    const Pc = 50, Sq = 14;
    const inv = new Float32Array(D / 2).map((_, i) => 1 / 10000 ** ((2 * i) / D));
    const tables = ops.ropeTables(inv, 128);
    const tc = gpu.upload(tables.cos, [128, D / 2]), ts = gpu.upload(tables.sin, [128, D / 2]);
    const full = seqs.map(({ P, n }, b) => {
      const L = P + n;
      return { L, q: randn(L * H * D, 20 + b), k: randn(L * KD, 30 + b), v: randn(L * KD, 40 + b) };
    });
    // Reference: each whole sequence through RoPE and attention.
    const want: Float32Array[] = [];
    const wantK: Float32Array[] = [];
    for (const f of full) {
      const tq = gpu.upload(f.q, [f.L, H * D]), tk = gpu.upload(f.k, [f.L, KD]), tv = gpu.upload(f.v, [f.L, KD]), to = gpu.tensor([f.L, H * D]);
      ops.rope(gpu, tq, tc, ts, f.L, f.L, H, D);
      ops.rope(gpu, tk, tc, ts, f.L, f.L, Hkv, D);
      ops.attention(gpu, tq, tk, tv, to, f.L, f.L, H, Hkv, D);
      want.push(await gpu.readF32(to));
      wantK.push(await gpu.readF32(tk));
      expectClose(want[want.length - 1], refAttention(await gpu.readF32(tq), wantK[wantK.length - 1], f.v, f.L, f.L, H, Hkv, D), 1e-5, 1e-4, 'full attention');
      [tq, tk, tv, to].forEach((t) => t.destroy());
    }
    // Prefix run: cached keys (after RoPE) and values of the prefixes, (2, Pc) rows; own tokens (2, Sq).
    const kc = new Float32Array(2 * Pc * KD), vc = new Float32Array(2 * Pc * KD);
    const q = randn(2 * Sq * H * D, 50), k = randn(2 * Sq * KD, 51), v = randn(2 * Sq * KD, 52); // padding rows stay random
    seqs.forEach(({ P, n }, b) => {
      kc.set(wantK[b].subarray(0, P * KD), b * Pc * KD);
      vc.set(full[b].v.subarray(0, P * KD), b * Pc * KD);
      q.set(full[b].q.subarray(P * H * D, (P + n) * H * D), b * Sq * H * D);
      k.set(full[b].k.subarray(P * KD, (P + n) * KD), b * Sq * KD);
      v.set(full[b].v.subarray(P * KD, (P + n) * KD), b * Sq * KD);
    });
    const meta = new Uint32Array([0, seqs[0].P, Pc, seqs[1].P]);
    const tm = gpu.upload(meta, [4]);
    const tkc = gpu.upload(kc, [2 * Pc, KD]), tvc = gpu.upload(vc, [2 * Pc, KD]);
    const tq = gpu.upload(q, [2 * Sq, H * D]), tk = gpu.upload(k, [2 * Sq, KD]), tv = gpu.upload(v, [2 * Sq, KD]), to = gpu.tensor([2 * Sq, H * D]);
    ops.rope(gpu, tq, tc, ts, 2 * Sq, Sq, H, D, { meta: tm });
    ops.rope(gpu, tk, tc, ts, 2 * Sq, Sq, Hkv, D, { meta: tm });
    ops.attention(gpu, tq, tk, tv, to, 2 * Sq, Sq, H, Hkv, D, { k: tkc, v: tvc, meta: tm, maxPrefix: Pc });
    const got = await gpu.readF32(to);
    const gotK = await gpu.readF32(tk);
    seqs.forEach(({ P, n }, b) => {
      expect(Array.from(gotK.subarray(b * Sq * KD, (b * Sq + n) * KD)), `keys of sequence ${b}`).toEqual(Array.from(wantK[b].subarray(P * KD, (P + n) * KD)));
      expect(Array.from(got.subarray(b * Sq * H * D, (b * Sq + n) * H * D)), `attention of sequence ${b}`).toEqual(Array.from(want[b].subarray(P * H * D, (P + n) * H * D)));
    });
    [tc, ts, tm, tkc, tvc, tq, tk, tv, to].forEach((t) => t.destroy());
  });

  it('nll from logits, skipping negative targets', async () => {
    const T = 6, V = 1000;
    const logits = randn(T * V, 13, 5);
    const targets = new Int32Array([3, 999, -1, 0, 512, 7]);
    const tl = gpu.upload(logits, [T, V]), tt = gpu.upload(targets, [T]), tn = gpu.tensor([T]);
    ops.nll(gpu, tl, tt, tn, T, V, 0);
    const ref = Array.from(targets, (tg, t) => {
      if (tg < 0) return 0;
      let mx = -Infinity, s = 0;
      for (let c = 0; c < V; c++) mx = Math.max(mx, logits[t * V + c]);
      for (let c = 0; c < V; c++) s += Math.exp(logits[t * V + c] - mx);
      return mx + Math.log(s) - logits[t * V + tg];
    });
    expectClose(await gpu.readF32(tn), ref, 1e-5, 1e-5, 'nll');
    [tl, tt, tn].forEach((t) => t.destroy());
  });

  it('f16 and bf16 conversion', async () => {
    // 1.0, -2.0, 0.5 in f16 and bf16 (odd count exercises the half word)
    const f16 = new Uint16Array([0x3c00, 0xc000, 0x3800]);
    const bf16 = new Uint16Array([0x3f80, 0xc000, 0x3f00]);
    for (const [bits, mode] of [[f16, 'f16'], [bf16, 'bf16']] as const) {
      const src = gpu.uploadBytes(new Uint8Array(bits.buffer));
      const out = gpu.tensor([3]);
      ops.convert16(gpu, src, out, 3, mode);
      expect(Array.from(await gpu.readF32(out))).toEqual([1, -2, 0.5]);
      src.destroy();
      out.destroy();
    }
  });
});

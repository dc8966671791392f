/**
 * One typed wrapper per kernel in shaders/. Shapes use the letters of STYLE.md:
 * T tokens, C hidden, H heads, Hkv kv heads, D head dim, F ffn, V vocab.
 */
import { PolyPruneError } from '../common/errors';
import { type Gpu, Tensor, type Binding, type Work, u32, f32, workCost } from './device';

import { foldGroups, foldRows as rowGrid, grid1d } from './fold';

export { grid1d };

/**
 * How a weight matrix sits on the GPU: f32, or 16-bit floats packed two per u32 word (element 2i in
 * the low half of word i), unpacked inside the kernels that read weights (matmul, embedding).
 */
export type WeightFormat = 'f32' | 'f16' | 'bf16';

/** Bytes per element of a weight format on the GPU. */
export function weightBytes(format: WeightFormat): number {
  return format === 'f32' ? 4 : 2;
}

/** The WPACK override constant of the kernels that read packed weights. */
const WPACK: Record<WeightFormat, number> = { f32: 0, f16: 1, bf16: 2 };

/**
 * A weight matrix [N, K] stored as row chunks, each within one storage binding. Chunks are cut as
 * for f32 (64-row aligned starts) whatever the format, so an f32 working copy has the same chunks.
 */
export interface ChunkedMatrix {
  readonly rows: number; // N
  readonly cols: number; // K
  readonly chunks: ReadonlyArray<{ tensor: Tensor; rowStart: number; rows: number }>;
  /** Absent: f32. Packed chunks are u32 tensors of ceil(rows * K / 2) words. */
  readonly format?: WeightFormat;
}

/** Whether m holds 16-bit weights packed two per word. */
export function isPacked(m: ChunkedMatrix): boolean {
  return (m.format ?? 'f32') !== 'f32';
}

/**
 * Tile shape and loads of nn/matmul (override constants, chosen at pipeline creation): WGX x WGY
 * invocations of 4x4 outputs, K stepped by TK, vec4 loads when K is a multiple of 4 and the x binding
 * starts on a 16-byte boundary. Every choice computes the same fma chain per output.
 */
export interface MatmulTuning {
  WGX: number;
  WGY: number;
  TK: number;
  VEC4: boolean;
}

/** The scalar 16 x 16 x 16 configuration (the kernel before tuning; the bench compares against it). */
export const MATMUL_SCALAR: MatmulTuning = { WGX: 16, WGY: 16, TK: 16, VEC4: false };

/** The configuration used for a K and an x binding offset (in elements) on this adapter. */
export function matmulTuning(gpu: Gpu, K: number, xOffsetElems: number): MatmulTuning {
  // 256 invocations is WebGPU's default limit; smaller adapters get 8 x 8.
  const wg = gpu.info.limits.maxComputeInvocationsPerWorkgroup >= 256 ? 16 : 8;
  return { WGX: wg, WGY: wg, TK: 16, VEC4: K % 4 === 0 && xOffsetElems % 4 === 0 };
}

/**
 * out[:, colOffset..] (+)= x W^T (+ bias). x: (M, K); W: (N, K); out: (M, ldOut). `matvec`: the
 * few-rows kernel ({@link matvec}) instead of the 64 x 64 tiles (token-by-token generation).
 */
export function matmul(gpu: Gpu, x: Binding, M: number, w: ChunkedMatrix, out: Tensor, opts: { bias?: Tensor; beta?: number; ldOut?: number; colOffset?: number; tuning?: MatmulTuning; matvec?: boolean } = {}): void {
  if (opts.matvec) return matvec(gpu, x, M, w, out, opts);
  const K = w.cols;
  const ldOut = opts.ldOut ?? w.rows;
  const colOffset = opts.colOffset ?? 0;
  const xOffset = x instanceof Tensor ? 0 : x.offsetElems;
  const t = opts.tuning ?? matmulTuning(gpu, K, xOffset);
  const vec4 = t.VEC4 && K % 4 === 0 && xOffset % 4 === 0;
  const baseConstants = { WGX: t.WGX, WGY: t.WGY, TK: t.TK, VEC4: vec4 ? 1 : 0, WPACK: WPACK[w.format ?? 'f32'] };
  const xT = x instanceof Tensor ? x : x.tensor;
  const wb = weightBytes(w.format ?? 'f32');
  for (const ch of w.chunks) {
    let bias: Binding = ch.tensor;
    if (opts.bias) bias = { tensor: opts.bias, offsetElems: ch.rowStart, numElems: ch.rows };
    if (opts.bias && ch.rowStart % 64 !== 0) throw new PolyPruneError('INTERNAL', 'bias chunk offset must be 64-aligned');
    // Work per submit: rows of x (and out) in slices of 64 when the whole product is over the budget.
    // Each output is the same fma chain in every slice, so the result is bitwise the same.
    const work = (m: number): Work => ({ flops: 2 * m * ch.rows * K, bytes: 4 * m * K + wb * ch.rows * K + 4 * m * ch.rows });
    const slice = rowsWithin(gpu, M, work);
    for (let m0 = 0; m0 < M; m0 += slice) {
      const m = Math.min(slice, M - m0);
      const xs: Binding = slice >= M ? x : { tensor: xT, offsetElems: xOffset + m0 * K, numElems: m * K };
      const nt = tilesPerGroup(gpu, Math.ceil(ch.rows / (4 * t.WGX)), Math.ceil(m / (4 * t.WGY)));
      const os: Binding = slice >= M ? out : { tensor: out, offsetElems: m0 * ldOut, numElems: (m - 1) * ldOut + colOffset + ch.rowStart + ch.rows };
      gpu.dispatch('nn/matmul', [true, true, true, false, true, true, true], {
        params: [u32(m), u32(ch.rows), u32(K), u32(ldOut), u32(colOffset + ch.rowStart), u32(opts.bias ? 1 : 0), f32(opts.beta ?? 0)],
        // x4/w4 view the same ranges as vec4 (read only when VEC4; a vec4 view needs at least 16 bytes);
        // wp is the packed view of the weights (read only when WPACK != 0).
        bindings: [xs, ch.tensor, bias, os, vec4 ? xs : ch.tensor, ch.tensor, ch.tensor],
        workgroups: [Math.ceil(ch.rows / (4 * t.WGX * nt)), Math.ceil(m / (4 * t.WGY)), 1],
        constants: { ...baseConstants, NT: nt },
        work: work(m),
      });
    }
  }
}

/**
 * Shape of nn/matvec (override constants): WG invocations per workgroup, LANES of them per output row,
 * VEC4 when K is a multiple of 4 and the x binding starts on a 16-byte boundary. On a GPU, LANES is a
 * power of two from 4 to 64 (about eight loads each, so short rows keep their lanes busy) and WG 256:
 * K is split and summed by a tree in workgroup memory. On a CPU adapter (lavapipe, SwiftShader) a
 * workgroup barrier costs far more than the arithmetic, so LANES is 1 (one invocation sums a whole
 * row, no barrier) and WG 64 (small matrices still span several workgroups, i.e. cores).
 */
export function matvecShape(gpu: Gpu, K: number, xOffsetElems: number): { WG: number; LANES: number; VEC4: boolean } {
  const VEC4 = K % 4 === 0 && xOffsetElems % 4 === 0;
  if (gpu.info.cpu) return { WG: 64, LANES: 1, VEC4 };
  const loads = VEC4 ? K / 4 : K;
  let LANES = 4;
  while (LANES < 64 && LANES * 8 <= loads) LANES *= 2;
  const WG = gpu.info.limits.maxComputeInvocationsPerWorkgroup >= 256 ? 256 : 64;
  return { WG, LANES, VEC4 };
}

/**
 * out[:, colOffset..] (+)= x W^T (+ bias) for few rows M of x (shaders/nn/matvec.wgsl): one workgroup
 * per block of WG / LANES output rows, each row's K split over LANES invocations and summed by a tree
 * in workgroup memory; every weight is read once per four rows of x. Same operands and layouts as
 * {@link matmul} (f32 or packed 16-bit weights, row chunks, bias, beta, ldOut, colOffset); the sums
 * agree with it to float32 rounding, not bitwise, and a row's result does not depend on M. Output
 * rows go in slices within the submit budget. `shape`: override {@link matvecShape} (tests, bench).
 */
export function matvec(gpu: Gpu, x: Binding, M: number, w: ChunkedMatrix, out: Tensor, opts: { bias?: Tensor; beta?: number; ldOut?: number; colOffset?: number; shape?: { WG: number; LANES: number; VEC4: boolean } } = {}): void {
  const K = w.cols;
  const ldOut = opts.ldOut ?? w.rows;
  const colOffset = opts.colOffset ?? 0;
  const xOffset = x instanceof Tensor ? 0 : x.offsetElems;
  const { WG, LANES } = opts.shape ?? matvecShape(gpu, K, xOffset);
  const VEC4 = (opts.shape ?? matvecShape(gpu, K, xOffset)).VEC4 && K % 4 === 0 && xOffset % 4 === 0;
  const perGroup = WG / LANES;
  const format = w.format ?? 'f32';
  const wb = weightBytes(format);
  const constants = { WG, LANES, VEC4: VEC4 ? 1 : 0, WPACK: WPACK[format] };
  // Every weight of the slice is read from memory once (x, a few KiB, stays in cache), each output written once.
  const work = (n: number): Work => ({ flops: 2 * M * n * K, bytes: wb * n * K + 4 * M * K + 4 * M * n * (opts.beta ? 2 : 1) });
  for (const ch of w.chunks) {
    const bias: Binding = opts.bias ? { tensor: opts.bias, offsetElems: ch.rowStart, numElems: ch.rows } : ch.tensor;
    let per = ch.rows;
    if (workCost(work(per)) > gpu.submitBudget) {
      per = perGroup;
      while (per * 2 < ch.rows && workCost(work(per * 2)) <= gpu.submitBudget) per *= 2;
      gpu.noteSplit();
    }
    for (let r0 = 0; r0 < ch.rows; r0 += per) {
      const n = Math.min(per, ch.rows - r0);
      gpu.dispatch('nn/matvec', [true, true, true, false, true, true, true], {
        params: [u32(M), u32(ch.rows), u32(K), u32(ldOut), u32(colOffset + ch.rowStart), u32(opts.bias ? 1 : 0), f32(opts.beta ?? 0), u32(r0), u32(r0 + n)],
        // x4/w4 view the same ranges as vec4 (read only when VEC4); wp is the packed view of the weights.
        bindings: [x, ch.tensor, bias, out, VEC4 ? x : ch.tensor, ch.tensor, ch.tensor],
        workgroups: foldGroups(Math.ceil(n / perGroup)),
        constants,
        work: work(n),
      });
    }
  }
}

/** Workgroups a CPU adapter's tiled kernels keep per dispatch at least, before they share out tiles. */
const CPU_MIN_GROUPS = 16;
/** Most output tiles one workgroup of a tiled kernel takes along N on a CPU adapter. */
const CPU_MAX_TILES = 16;

/**
 * Output tiles per workgroup along N (override NT) for the 64 x 64-tiled kernels (nn/matmul,
 * prune/linalg_gemm) over a grid of tilesN x tilesM tiles; also rows per workgroup of prune/row_select
 * (tilesN = rows, tilesM = 1). On a GPU: 1. On a CPU adapter (SwiftShader,
 * lavapipe) each workgroup has a fixed cost far above a tile's arithmetic for short K (SwiftShader:
 * about 0.5 ms, bench/sparsegpt.ts), so a workgroup takes up to CPU_MAX_TILES tiles in a row while the
 * dispatch keeps at least CPU_MIN_GROUPS workgroups for the cores. Each output is computed exactly as
 * with one tile per workgroup. A power of two, so that few pipelines are made.
 */
export function tilesPerGroup(gpu: Gpu, tilesN: number, tilesM: number): number {
  if (!gpu.info.cpu) return 1;
  const nt = Math.max(1, Math.min(CPU_MAX_TILES, tilesN, Math.floor((tilesN * tilesM) / CPU_MIN_GROUPS)));
  return 2 ** Math.floor(Math.log2(nt)); // powers of two: few pipelines
}

/**
 * Rows per dispatch so that work(rows) stays within the GPU's submit budget: all `rows` when they fit,
 * else a multiple of 64 (binding offsets of 64 rows stay 256-byte aligned), at least 64.
 */
export function rowsWithin(gpu: Gpu, rows: number, work: (rows: number) => Work): number {
  if (workCost(work(rows)) <= gpu.submitBudget || rows <= 64) return rows;
  let lo = 64;
  for (let r = 128; r < rows && workCost(work(r)) <= gpu.submitBudget; r += 64) lo = r;
  gpu.noteSplit();
  return lo;
}

/**
 * Calls f(r0, m) for consecutive row slices [r0, r0 + m) of `rows` rows, each within the submit budget
 * by `work` ({@link rowsWithin}: one call with all rows when they fit). For kernels whose rows are
 * independent: a slice binds its rows at an offset (64-row slices stay 256-byte aligned for any width).
 */
export function forRowSlices(gpu: Gpu, rows: number, work: (rows: number) => Work, f: (r0: number, m: number) => void): void {
  const per = rowsWithin(gpu, rows, work);
  for (let r0 = 0; r0 < rows; r0 += per) f(r0, Math.min(per, rows - r0));
}

/** Rows r0 .. r0 + m of a (.., K) row-major tensor as a binding (the tensor itself when that is all of it). */
export function rowSlice(t: Tensor, r0: number, m: number, K: number): Binding {
  return r0 === 0 && m * K >= t.numel ? t : { tensor: t, offsetElems: r0 * K, numElems: m * K };
}

/** out (T, C) = rows of the embedding table for ids (T). */
export function embedding(gpu: Gpu, ids: Tensor, table: ChunkedMatrix, out: Tensor, T: number): void {
  const C = table.cols;
  for (const ch of table.chunks) {
    gpu.dispatch('nn/embedding', [true, true, false, true], {
      params: [u32(T), u32(C), u32(ch.rowStart), u32(ch.rows)],
      bindings: [ids, ch.tensor, out, ch.tensor],
      constants: { WPACK: WPACK[table.format ?? 'f32'] },
      workgroups: rowGrid(Math.ceil(C / 64), T),
      // every token's row is read (from the chunk that holds it) and written
      work: { flops: T * C, bytes: 4 * T + T * C * (weightBytes(table.format ?? 'f32') + 4) },
    });
  }
}

export function rmsnorm(gpu: Gpu, x: Tensor, weight: Tensor, out: Tensor, T: number, C: number, eps: number): void {
  gpu.dispatch('nn/rmsnorm', [true, true, false], {
    params: [u32(T), u32(C), f32(eps)],
    bindings: [x, weight, out],
    workgroups: rowGrid(1, T),
    work: { flops: 4 * T * C, bytes: 4 * (2 * T * C + C) },
  });
}

/**
 * Mean-centred LayerNorm with weight only (Cohere) over `rows` rows of n; weight (groups, n) applies
 * row r's group r mod groups (groups = heads for the per-head q/k norm, viewing (T, heads*D) as (T*heads, D)).
 */
export function layernorm(gpu: Gpu, x: Tensor, weight: Tensor, out: Tensor, rows: number, n: number, eps: number, groups = 1): void {
  gpu.dispatch('nn/layernorm', [true, true, false], {
    params: [u32(rows), u32(n), u32(groups), f32(eps)],
    bindings: [x, weight, out],
    workgroups: rowGrid(1, rows),
    work: { flops: 6 * rows * n, bytes: 4 * (3 * rows * n + groups * n) },
  });
}

/** x[0..n) *= s in place. */
export function scale(gpu: Gpu, x: Tensor, n: number, s: number): void {
  gpu.dispatch('nn/scale', [false], { params: [u32(n), f32(s)], bindings: [x], workgroups: grid1d(n, 256), work: { flops: n, bytes: 8 * n } });
}

/**
 * cos/sin tables (S, D/2) of the angles pos * invFreq[i], computed on the CPU in float64 and rounded
 * once to float32. (transformers rounds the angle to float32 first; the float64 angle is the more
 * accurate of the two and reproduces every stories260K reference mask, including its near-ties.)
 */
export function ropeTables(invFreq: Float32Array, S: number): { cos: Float32Array; sin: Float32Array } {
  const half = invFreq.length;
  const cos = new Float32Array(S * half);
  const sin = new Float32Array(S * half);
  for (let pos = 0; pos < S; pos++) {
    for (let i = 0; i < half; i++) {
      const angle = pos * invFreq[i];
      cos[pos * half + i] = Math.cos(angle);
      sin[pos * half + i] = Math.sin(angle);
    }
  }
  return { cos, sin };
}

/**
 * In-place RoPE on v (T, stride) for `heads` heads of size D starting at column colOffset; tables
 * (positions, D/2). With `meta` (u32 (T / S, 2), see {@link PrefixKv}) sequence b starts at position
 * meta[2b + 1] instead of 0.
 */
export function rope(gpu: Gpu, v: Tensor, cosT: Tensor, sinT: Tensor, T: number, S: number, heads: number, D: number, opts: { stride?: number; colOffset?: number; interleaved?: boolean; meta?: Tensor } = {}): void {
  gpu.dispatch('nn/rope', [true, true, false, true], {
    params: [u32(T), u32(S), u32(heads), u32(D), u32(opts.stride ?? heads * D), u32(opts.colOffset ?? 0), u32(opts.interleaved ? 1 : 0), u32(opts.meta ? 1 : 0)],
    bindings: [cosT, sinT, v, opts.meta ?? cosT],
    workgroups: rowGrid(Math.ceil((heads * D) / 2 / 64), T),
    // per pair: 4 multiplies and 2 adds; read and write the pair and its cos/sin
    work: { flops: 3 * T * heads * D, bytes: 4 * 2 * T * heads * D + 4 * T * D },
  });
}

/**
 * Keys and values of already-run prefixes (context sharing): query sequence b of an attention call
 * attends rows meta[2b] .. meta[2b] + meta[2b + 1] of k/v first, then its own tokens, and its RoPE
 * positions start at meta[2b + 1].
 */
export interface PrefixKv {
  k: Tensor; // (rows, Hkv*D) after RoPE
  v: Tensor; // (rows, Hkv*D)
  meta: Tensor; // u32 (B, 2): first cached row, prefix length
  /** Longest prefix (the RoPE tables must cover S + maxPrefix positions). */
  maxPrefix: number;
}

/**
 * Causal GQA attention over T = B*S tokens (sequences of S). q (T, H*D), k/v (T, Hkv*D) -> o (T, H*D).
 * With `prefix`, each sequence first attends its cached prefix rows (see {@link PrefixKv}).
 */
export function attention(gpu: Gpu, q: Tensor, k: Tensor, v: Tensor, o: Tensor, T: number, S: number, H: number, Hkv: number, D: number, prefix?: PrefixKv): void {
  if (D > 256) throw new PolyPruneError('UNSUPPORTED_MODEL', `head dim ${D} > 256 is not supported by the attention kernel`);
  if (H % Hkv !== 0) throw new PolyPruneError('UNSUPPORTED_MODEL', `num_attention_heads ${H} is not a multiple of num_key_value_heads ${Hkv}`);
  gpu.dispatch('nn/attention', [true, true, true, false, true, true, true], {
    params: [u32(T), u32(S), u32(H), u32(Hkv), u32(D), f32(1 / Math.sqrt(D)), u32(prefix ? 1 : 0)],
    bindings: [q, k, v, o, prefix?.k ?? k, prefix?.v ?? v, prefix?.meta ?? q],
    workgroups: [Math.ceil(T / 64), H, 1],
    // causal: each query attends (S + 1) / 2 keys on average (plus its prefix): QK^T and PV
    work: { flops: 4 * T * ((S + 1) / 2 + (prefix?.maxPrefix ?? 0)) * H * D, bytes: 4 * T * (2 * H * D + 2 * Hkv * D) },
  });
}

/** gate = silu(gate) * up, in place over n elements. */
export function siluMul(gpu: Gpu, gate: Tensor, up: Tensor, n: number): void {
  gpu.dispatch('nn/silu_mul', [true, false], { params: [u32(n)], bindings: [up, gate], workgroups: grid1d(n, 256), work: { flops: 8 * n, bytes: 12 * n } });
}

/** nll[rowOffset + t] for the Tc rows of a logits chunk (Tc, V). */
export function nll(gpu: Gpu, logits: Tensor, targets: Tensor, out: Tensor, Tc: number, V: number, rowOffset: number): void {
  gpu.dispatch('nn/nll', [true, true, false], { params: [u32(Tc), u32(V), u32(rowOffset)], bindings: [logits, targets, out], workgroups: rowGrid(1, Tc), work: { flops: 5 * Tc * V, bytes: 8 * Tc * V + 8 * Tc } });
}

/** f16 (mode 0) or bf16 (mode 1) packed words -> f32 (n elements). */
export function convert16(gpu: Gpu, src: Tensor, out: Tensor, n: number, mode: 'f16' | 'bf16'): void {
  gpu.dispatch('util/convert', [true, false], { params: [u32(n), u32(mode === 'f16' ? 0 : 1)], bindings: [src, out], workgroups: grid1d(n, 256), work: { flops: n, bytes: 6 * n } });
}

/** out (ceil(n / 2) u32 words) = f32 src (n) as 16-bit floats, rounded to nearest even (shaders/util/pack16.wgsl). */
export function pack16(gpu: Gpu, src: Tensor, out: Tensor, n: number, mode: 'f16' | 'bf16'): void {
  gpu.dispatch('util/pack16', [true, false], { params: [u32(n), u32(mode === 'f16' ? 0 : 1)], bindings: [src, out], workgroups: grid1d(Math.ceil(n / 2), 256), work: { flops: 4 * n, bytes: 6 * n } });
}

/** An f32 copy of a packed matrix (same chunks); the caller destroys its tensors. */
export function unpackMatrix(gpu: Gpu, m: ChunkedMatrix, label = 'weights.f32'): ChunkedMatrix {
  if (!isPacked(m)) throw new PolyPruneError('INTERNAL', 'unpackMatrix: the matrix is not packed');
  const chunks: { tensor: Tensor; rowStart: number; rows: number }[] = [];
  for (const ch of m.chunks) {
    const t = gpu.tensor([ch.rows, m.cols], 'f32', label);
    convert16(gpu, ch.tensor, t, ch.rows * m.cols, m.format as 'f16' | 'bf16');
    chunks.push({ tensor: t, rowStart: ch.rowStart, rows: ch.rows });
  }
  return { rows: m.rows, cols: m.cols, chunks };
}

/** Unpack `packed` into the f32 matrix `out` of the same chunks (overwriting it). */
export function unpackInto(gpu: Gpu, packed: ChunkedMatrix, out: ChunkedMatrix): void {
  packed.chunks.forEach((ch, c) => convert16(gpu, ch.tensor, out.chunks[c].tensor, ch.rows * packed.cols, packed.format as 'f16' | 'bf16'));
}

/** Write the f32 matrix `src` into the packed matrix `dst` of the same chunks, rounded to its format (nearest even). */
export function packInto(gpu: Gpu, src: ChunkedMatrix, dst: ChunkedMatrix): void {
  if (!isPacked(dst)) throw new PolyPruneError('INTERNAL', 'packInto: the destination is not packed');
  dst.chunks.forEach((ch, c) => pack16(gpu, src.chunks[c].tensor, ch.tensor, ch.rows * dst.cols, dst.format as 'f16' | 'bf16'));
}

/**
 * An f32 matrix to prune into `dst`, starting from the weights of `src` (the same matrix, or another of
 * the same shape, chunks and format, whose weights are copied in). For f32 `dst` it is dst itself; for
 * packed 16-bit weights an f32 working copy (the reference prunes in f32): `store()` writes it back
 * rounded to dst's format (nearest even, torch's `W.to(dtype)`) and reloads the copy from what dst now
 * holds, so counts and checks see the stored weights; `free()` releases the copy.
 */
export function prunable(gpu: Gpu, src: ChunkedMatrix, dst: ChunkedMatrix, label = 'prune.weights.f32'): { W: ChunkedMatrix; tensors: Tensor[]; store(): void; free(): void } {
  if (!isPacked(dst)) {
    if (src !== dst) dst.chunks.forEach((ch, c) => gpu.copy(src.chunks[c].tensor, 0, ch.tensor, 0, ch.rows * dst.cols));
    return { W: dst, tensors: [], store: () => {}, free: () => {} };
  }
  const W = unpackMatrix(gpu, src, label);
  return {
    W,
    tensors: W.chunks.map((ch) => ch.tensor),
    store: () => {
      packInto(gpu, W, dst);
      unpackInto(gpu, dst, W);
    },
    free: () => {
      for (const ch of W.chunks) ch.tensor.destroy();
    },
  };
}

/** The FMA throughput kernel (shaders/util/fma_peak.wgsl): 16 * iters flops per invocation, 256 per workgroup. */
export function fmaPeak(gpu: Gpu, out: Tensor, groups: number, iters: number): void {
  gpu.dispatch('util/fma_peak', [false], { params: [u32(iters), f32(0.999), f32(0.001)], bindings: [out], workgroups: [groups, 1, 1], constants: { WG: 256 }, work: { flops: 16 * iters * 256 * groups, bytes: 4 * 256 * groups } });
}

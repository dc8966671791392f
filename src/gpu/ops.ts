/**
 * One typed wrapper per kernel in shaders/. Shapes use the letters of STYLE.md:
 * T tokens, C hidden, H heads, Hkv kv heads, D head dim, F ffn, V vocab.
 */
import { PolyPruneError } from '../common/errors';
import { type Gpu, Tensor, type Binding, u32, f32 } from './device';

import { foldRows as rowGrid, grid1d } from './fold';

export { grid1d };

/** A weight matrix [N, K] stored as row chunks, each within one storage binding. */
export interface ChunkedMatrix {
  readonly rows: number; // N
  readonly cols: number; // K
  readonly chunks: ReadonlyArray<{ tensor: Tensor; rowStart: number; rows: number }>;
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

/** out[:, colOffset..] (+)= x W^T (+ bias). x: (M, K); W: (N, K); out: (M, ldOut). */
export function matmul(gpu: Gpu, x: Binding, M: number, w: ChunkedMatrix, out: Tensor, opts: { bias?: Tensor; beta?: number; ldOut?: number; colOffset?: number; tuning?: MatmulTuning } = {}): void {
  const K = w.cols;
  const ldOut = opts.ldOut ?? w.rows;
  const colOffset = opts.colOffset ?? 0;
  const xOffset = x instanceof Tensor ? 0 : x.offsetElems;
  const t = opts.tuning ?? matmulTuning(gpu, K, xOffset);
  const vec4 = t.VEC4 && K % 4 === 0 && xOffset % 4 === 0;
  const constants = { WGX: t.WGX, WGY: t.WGY, TK: t.TK, VEC4: vec4 ? 1 : 0 };
  for (const ch of w.chunks) {
    let bias: Binding = ch.tensor;
    if (opts.bias) bias = { tensor: opts.bias, offsetElems: ch.rowStart, numElems: ch.rows };
    if (opts.bias && ch.rowStart % 64 !== 0) throw new PolyPruneError('INTERNAL', 'bias chunk offset must be 64-aligned');
    gpu.dispatch('nn/matmul', [true, true, true, false, true, true], {
      params: [u32(M), u32(ch.rows), u32(K), u32(ldOut), u32(colOffset + ch.rowStart), u32(opts.bias ? 1 : 0), f32(opts.beta ?? 0)],
      // x4/w4 view the same ranges as vec4 (read only when VEC4; a vec4 view needs at least 16 bytes).
      bindings: [x, ch.tensor, bias, out, vec4 ? x : ch.tensor, ch.tensor],
      workgroups: [Math.ceil(ch.rows / (4 * t.WGX)), Math.ceil(M / (4 * t.WGY)), 1],
      constants,
    });
  }
}

/** out (T, C) = rows of the embedding table for ids (T). */
export function embedding(gpu: Gpu, ids: Tensor, table: ChunkedMatrix, out: Tensor, T: number): void {
  const C = table.cols;
  for (const ch of table.chunks) {
    gpu.dispatch('nn/embedding', [true, true, false], {
      params: [u32(T), u32(C), u32(ch.rowStart), u32(ch.rows)],
      bindings: [ids, ch.tensor, out],
      workgroups: rowGrid(Math.ceil(C / 64), T),
    });
  }
}

export function rmsnorm(gpu: Gpu, x: Tensor, weight: Tensor, out: Tensor, T: number, C: number, eps: number): void {
  gpu.dispatch('nn/rmsnorm', [true, true, false], {
    params: [u32(T), u32(C), f32(eps)],
    bindings: [x, weight, out],
    workgroups: rowGrid(1, T),
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
  });
}

/** x[0..n) *= s in place. */
export function scale(gpu: Gpu, x: Tensor, n: number, s: number): void {
  gpu.dispatch('nn/scale', [false], { params: [u32(n), f32(s)], bindings: [x], workgroups: grid1d(n, 256) });
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
  });
}

/** gate = silu(gate) * up, in place over n elements. */
export function siluMul(gpu: Gpu, gate: Tensor, up: Tensor, n: number): void {
  gpu.dispatch('nn/silu_mul', [true, false], { params: [u32(n)], bindings: [up, gate], workgroups: grid1d(n, 256) });
}

/** nll[rowOffset + t] for the Tc rows of a logits chunk (Tc, V). */
export function nll(gpu: Gpu, logits: Tensor, targets: Tensor, out: Tensor, Tc: number, V: number, rowOffset: number): void {
  gpu.dispatch('nn/nll', [true, true, false], { params: [u32(Tc), u32(V), u32(rowOffset)], bindings: [logits, targets, out], workgroups: rowGrid(1, Tc) });
}

/** f16 (mode 0) or bf16 (mode 1) packed words -> f32 (n elements). */
export function convert16(gpu: Gpu, src: Tensor, out: Tensor, n: number, mode: 'f16' | 'bf16'): void {
  gpu.dispatch('util/convert', [true, false], { params: [u32(n), u32(mode === 'f16' ? 0 : 1)], bindings: [src, out], workgroups: grid1d(n, 256) });
}

/** The FMA throughput kernel (shaders/util/fma_peak.wgsl): 16 * iters flops per invocation, 256 per workgroup. */
export function fmaPeak(gpu: Gpu, out: Tensor, groups: number, iters: number): void {
  gpu.dispatch('util/fma_peak', [false], { params: [u32(iters), f32(0.999), f32(0.001)], bindings: [out], workgroups: [groups, 1, 1], constants: { WG: 256 } });
}

// linalg_gemm: C -= A B over a sub-block, the trailing update of the blocked factorizations and of
// SparseGPT:
//   c[cOff + i*ldc + j] -= sum_{k<K} A(i, k) * B(k, j)      for i < M, j < N (and j <= i + diag when LOWER:
//   a slice of rows of a lower-triangular update, diag its first row's index)
//   A(i, k) = src_a[aOff + i*lda + k]
//   B(k, j) = src_b[bOff + k*ldb + j]   or, with B_TRANS,   src_b[bOff + j*ldb + k]
// src_a / src_b is binding 1 / 2, or binding 3 (C itself) when A_FROM_C / B_FROM_C is set: a buffer
// bound writable may not be bound twice in one dispatch, and the factorizations read their panel from
// the matrix they update (disjoint regions). Tiles entirely above the diagonal are skipped when LOWER.
// Accumulation in f32 with fma, K stepped by TK through workgroup memory. With kChunk (a multiple of
// TK; 0 = K) the sum is subtracted chunk by chunk in k order,
//   c <- (..((c - sum_{k in chunk 0}) - sum_{k in chunk 1}) ..),
// each chunk's sum one fma chain from 0: bitwise K / kChunk updates of K = kChunk in a row, in one
// dispatch that reads A and B once (the blocked factorizations defer their rank-32 updates this way).
//
// Bindings
//   0 uniform  Params
//   1 read     a     f32 [..]
//   2 read     b     f32 [..]
//   3 rw       c     f32 [..]
// flags: bit 0 B_TRANS, bit 1 A_FROM_C, bit 2 B_FROM_C, bit 3 LOWER.
// Tiling: a 64x64 tile of C per workgroup of 16x16 invocations, each computing 4x4 outputs (the
// inner product is common/gemm_core's gemmTile, with its default constants).
// uses: common/gemm_core
// Dispatch: (ceil(N / (64 * NT)), ceil(M / 64), 1).

struct Params {
  M: u32,
  N: u32,
  K: u32,
  lda: u32,
  ldb: u32,
  ldc: u32,
  aOff: u32,
  bOff: u32,
  cOff: u32,
  flags: u32,
  kChunk: u32,
  diag: u32,
}

const TM: u32 = 64u;
const TN: u32 = 64u;
const B_TRANS: u32 = 1u;
const A_FROM_C: u32 = 2u;
const B_FROM_C: u32 = 4u;
const LOWER: u32 = 8u;

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read> b: array<f32>;
@group(0) @binding(3) var<storage, read_write> c: array<f32>;

fn loadA(idx: u32) -> f32 {
  if ((p.flags & A_FROM_C) != 0u) { return c[idx]; }
  return a[idx];
}

fn loadB(idx: u32) -> f32 {
  if ((p.flags & B_FROM_C) != 0u) { return c[idx]; }
  return b[idx];
}

// NT output tiles per workgroup along N (1; more on CPU adapters: ops.tilesPerGroup).
override NT: u32 = 1u;

@compute @workgroup_size(16, 16, 1)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  for (var t = 0u; t < NT; t++) {
    tile(wg.y * TM, (wg.x * NT + t) * TN, lid);
  }
}

fn tile(m0: u32, n0: u32, lid: vec3<u32>) {
  let lower = (p.flags & LOWER) != 0u;
  if (n0 >= p.N || (lower && n0 > m0 + p.diag + TM - 1u)) { return; } // whole tile outside (uniform per workgroup)
  let bT = (p.flags & B_TRANS) != 0u;
  let tid = lid.y * 16u + lid.x;
  var acc: array<f32, 16>;
  for (var i = 0u; i < 16u; i++) { acc[i] = 0.0; }
  let chunk = select(p.K, p.kChunk, p.kChunk != 0u);

  for (var k0 = 0u; k0 < p.K; k0 += TK) {
    for (var j = 0u; j < 4u; j++) {
      let e = tid + j * 256u;
      // A tile: 64 rows x 16 k, k fastest (row-major A reads along k).
      let ar = e / TK;
      let ak = e % TK;
      var av = 0.0;
      if (m0 + ar < p.M && k0 + ak < p.K) { av = loadA(p.aOff + (m0 + ar) * p.lda + k0 + ak); }
      gemmA[ak * TM + ar] = av;
      // B tile: 16 k x 64 columns; read along the contiguous index of the source.
      var bk: u32;
      var bn: u32;
      if (bT) { bn = e / TK; bk = e % TK; } else { bk = e / TN; bn = e % TN; }
      var bv = 0.0;
      if (k0 + bk < p.K && n0 + bn < p.N) {
        if (bT) { bv = loadB(p.bOff + (n0 + bn) * p.ldb + k0 + bk); } else { bv = loadB(p.bOff + (k0 + bk) * p.ldb + n0 + bn); }
      }
      gemmB[bk * TN + bn] = bv;
    }
    workgroupBarrier();
    gemmTile(&acc, lid.x, lid.y);
    workgroupBarrier();
    if ((k0 + TK) % chunk == 0u || k0 + TK >= p.K) { subtract(&acc, m0, n0, lid, lower); }
  }
}

// c -= acc over the invocation's 4x4 outputs (within C, and on or below the diagonal when LOWER); acc = 0.
fn subtract(acc: ptr<function, array<f32, 16>>, m0: u32, n0: u32, lid: vec3<u32>, lower: bool) {
  for (var i = 0u; i < 4u; i++) {
    let gm = m0 + lid.y * 4u + i;
    if (gm >= p.M) { continue; }
    for (var j = 0u; j < 4u; j++) {
      let gn = n0 + lid.x * 4u + j;
      if (gn >= p.N || (lower && gn > gm + p.diag)) { continue; }
      let o = p.cOff + gm * p.ldc + gn;
      c[o] = c[o] - (*acc)[i * 4u + j];
      (*acc)[i * 4u + j] = 0.0;
    }
  }
}

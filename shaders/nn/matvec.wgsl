// matvec: out[m, colOffset + n] = beta * out[m, colOffset + n] + sum_k x[m, k] * w[n, k] + bias[n]
// for few rows of x (token-by-token generation: one row per sequence), the same product as nn/matmul
// without its 64-row tiles. (y = x W^T, W in nn.Linear layout [N, K]; W may be a row chunk.)
//
// Bindings
//   0 uniform  Params
//   1 read     x     f32 [M, K]          row-major
//   2 read     w     f32 [N, K]          row-major (rows of this chunk)
//   3 read     bias  f32 [N] or [1]      used when hasBias == 1
//   4 rw       out   f32 [M, ldOut]      row-major
//   5 read     x4    vec4<f32> view of binding 1, read when VEC4
//   6 read     w4    vec4<f32> view of binding 2, read when VEC4 and WPACK == 0
//   7 read     wp    u32 [ceil(N*K / 2)] binding 2's buffer holding 16-bit weights, two per word
//                    (element 2i in the low half of word i), read instead of w/w4 when WPACK != 0
// uses: common/fold
// uses: common/linear_io
// Override constants (src/gpu/ops.ts matvec; VEC4 and WPACK declared in common/linear_io):
//   WG     invocations per workgroup (a power of two, at most the adapter's limit)
//   LANES  invocations per output row (a power of two dividing WG): the workgroup computes WG / LANES
//          output rows of w; the LANES invocations of a row split K between them (lane l takes k = l,
//          l + LANES, ... or, with VEC4, the quads l, l + LANES, ...: neighbouring lanes read
//          neighbouring weights) and their partial sums meet in a tree reduction in workgroup memory
//   VEC4   load x and w four values at a time (needs K % 4 == 0 and a 16-byte aligned x binding)
//   WPACK  0: w is f32; 1: wp holds IEEE f16; 2: wp holds bfloat16 (unpacked exactly, as nn/matmul)
// Rows of x go four at a time (one vec4 of partial sums per lane), so each weight is read once per
// four rows of x. The sum order (lane partials, then the tree) is not nn/matmul's single fma chain:
// results agree to float32 rounding (about 1e-6 relative), not bitwise. It depends only on K and the
// constants, never on M, so a row's result does not depend on which other rows run with it.
// Dispatch: foldGroups(ceil(rowCount / (WG / LANES))) workgroups (x, y); rows rowStart.. of the chunk.

struct Params {
  M: u32,
  N: u32,
  K: u32,
  ldOut: u32,
  colOffset: u32,
  hasBias: u32,
  beta: f32,
  rowStart: u32,
  rowEnd: u32,
}

override WG: u32 = 256u;
override LANES: u32 = 32u;
@group(0) @binding(0) var<uniform> p: Params; // bindings 1-7: common/linear_io

var<workgroup> partial: array<vec4<f32>, WG>;

@compute @workgroup_size(WG, 1, 1)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let rowsPerGroup = WG / LANES;
  let lane = lid % LANES;
  let n = p.rowStart + fold_xy(wg) * rowsPerGroup + lid / LANES;
  let live = n < p.rowEnd;
  let nr = min(n, p.rowEnd - 1u); // rows past the end compute row rowEnd - 1 and write nothing
  let K = p.K;
  for (var m0 = 0u; m0 < p.M; m0 += 4u) {
    let rows = min(4u, p.M - m0);
    var acc = vec4<f32>(0.0);
    if (VEC4) {
      let K4 = K / 4u;
      for (var q = lane; q < K4; q += LANES) {
        let wv = weightQuad(nr * K + q * 4u);
        acc[0] = acc[0] + dot(wv, x4[m0 * K4 + q]);
        if (rows > 1u) { acc[1] = acc[1] + dot(wv, x4[(m0 + 1u) * K4 + q]); }
        if (rows > 2u) { acc[2] = acc[2] + dot(wv, x4[(m0 + 2u) * K4 + q]); }
        if (rows > 3u) { acc[3] = acc[3] + dot(wv, x4[(m0 + 3u) * K4 + q]); }
      }
    } else {
      for (var k = lane; k < K; k += LANES) {
        let wv = weight(nr * K + k);
        for (var i = 0u; i < rows; i++) { acc[i] = fma(wv, x[(m0 + i) * K + k], acc[i]); }
      }
    }
    if (LANES > 1u) {
      partial[lid] = acc;
      workgroupBarrier();
      for (var s = LANES / 2u; s > 0u; s = s / 2u) {
        if (lane < s) { partial[lid] = partial[lid] + partial[lid + s]; }
        workgroupBarrier();
      }
      acc = partial[lid];
    }
    if (live && lane == 0u) {
      let sum = acc;
      for (var i = 0u; i < rows; i++) { storeOut((m0 + i) * p.ldOut + p.colOffset + n, n, sum[i]); }
    }
    if (LANES > 1u) { workgroupBarrier(); }
  }
}

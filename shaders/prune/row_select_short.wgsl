// row_select_short: row_select for short rows (K <= 256), with the same result. For every row r of w,
// score[c] = |w[r, c]| * (hasScale ? scale[c] : 1); the k lowest scores of the row are set to 0, ties
// broken by lower column index first (torch.sort(stable=True) order). The row's keys (f32 bit patterns
// of the non-negative scores, which order like the values) go to workgroup memory; after ONE barrier
// every invocation ranks its columns by counting: rank(c) = #{j : key[j] < key[c], or key[j] == key[c]
// and j < c}, and zeroes w[r, c] when rank(c) < k. Row_select's radix passes need 12 barriers and
// serial 256-bin loops per row, which CPU-emulated GPUs (SwiftShader) pay for dearly on short rows.
//
// Bindings
//   0 uniform  Params
//   1 read     scale  f32 [K]        sqrt(scaler_row) (hasScale == 1; ignored when 0), or
//                     f32 [rows, K]  the whole score (hasScale == 2: RIA, ria_score.wgsl; |w| is not used)
//   2 rw       w      f32 [rows, K]  weights, pruned in place
// uses: common/select_score
// Dispatch: (1, rows, 1) folded as r = wg.y + wg.z * 65535; one workgroup of 64 per row; K <= 256.

struct Params {
  rows: u32,
  K: u32,
  k: u32,
  hasScale: u32,
}

@group(0) @binding(0) var<uniform> p: Params; // bindings 1-2: common/select_score

var<workgroup> keys: array<u32, 256>;

@compute @workgroup_size(64, 1, 1)
fn main(@builtin(local_invocation_id) lid: vec3<u32>, @builtin(workgroup_id) wg: vec3<u32>) {
  // uses: common/fold
  let r = fold_yz(wg);
  // the whole workgroup returns together (r is uniform), so the barrier below stays uniform
  if (r >= p.rows) { return; }
  let base = r * p.K;
  let i = lid.x;
  for (var c = i; c < p.K; c += 64u) {
    keys[c] = bitcast<u32>(selectScore(base, c));
  }
  workgroupBarrier();
  for (var c = i; c < p.K; c += 64u) {
    let kc = keys[c];
    var rank = 0u;
    for (var j = 0u; j < p.K; j++) {
      let kj = keys[j];
      if (kj < kc || (kj == kc && j < c)) { rank++; }
    }
    if (rank < p.k) { w[base + c] = 0.0; }
  }
}

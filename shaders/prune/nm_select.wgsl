// nm_select: N:M semi-structured pruning (wanda prune_wanda / prune_magnitude with prune_n, prune_m).
// For every row and every group of M consecutive columns [g*M, g*M + M), score[c] = |w| * (hasScale ?
// scale[c] : 1); the M - N lowest scores of the group are set to 0 (N kept), ties broken by lower
// column first (rank = #{j : s_j < s_i or (s_j == s_i and j < i)}; pruned when rank < M - N).
//
// Bindings
//   0 uniform  Params
//   1 read     scale  f32 [K]        sqrt(scaler_row) (hasScale == 1; ignored when 0), or
//                     f32 [rows, K]  the whole score (hasScale == 2: RIA, ria_score.wgsl; |w| is not used)
//   2 rw       w      f32 [rows, K]  weights, pruned in place; K % M == 0, M <= 32
// uses: common/select_score
// Dispatch: one invocation per (row, group): i = (wg.y * 65535 + wg.x) * 256 + lid.x over
// rows * K / M groups, i.e. grid1d(rows * K / M, 256).

struct Params {
  rows: u32,
  K: u32,
  n: u32,
  m: u32,
  hasScale: u32,
}

@group(0) @binding(0) var<uniform> p: Params; // bindings 1-2: common/select_score

@compute @workgroup_size(256, 1, 1)
fn main(@builtin(local_invocation_id) lid: vec3<u32>, @builtin(workgroup_id) wg: vec3<u32>) {
  // uses: common/fold
  let gi = fold_xy(wg) * 256u + lid.x;
  let groupsPerRow = p.K / p.m;
  if (gi >= p.rows * groupsPerRow) { return; }
  let r = gi / groupsPerRow;
  let c0 = (gi % groupsPerRow) * p.m;
  let base = r * p.K + c0;
  var s: array<f32, 32>;
  for (var j = 0u; j < p.m; j++) { s[j] = selectScore(r * p.K, c0 + j); }
  let prune = p.m - p.n;
  for (var j = 0u; j < p.m; j++) {
    var rank = 0u;
    for (var q = 0u; q < p.m; q++) {
      if (s[q] < s[j] || (s[q] == s[j] && q < j)) { rank++; }
    }
    if (rank < prune) { w[base + j] = 0.0; }
  }
}

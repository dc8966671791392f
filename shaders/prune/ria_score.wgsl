// ria_score: RIA's pruning score (Zhang et al., "Plug-and-Play: An Efficient Post-training Pruning
// Method for Large Language Models", ICLR 2024; reference biomedical-cybernetics/Relative-importance-
// and-activation-pruning lib/prune.py `prune_ria`):
//   score[r, c] = (|w[r, c]| / colsum[c] + |w[r, c]| / rowsum[r]) * act[c]
// with colsum[c] = sum_r |w[r, c]| (ria_col_sums.wgsl), rowsum[r] = sum_c |w[r, c]| (computed here)
// and act[c] = sqrt(scaler_row[c])^a (the activation term, a = 0.5 by default, formed on the CPU).
// A zero column or row sum means every |w| it sums is 0: that term is 0 (the reference would divide
// 0 by 0). One workgroup of 64 owns a row: each invocation sums its strided columns with Kahan
// compensation, a fixed tree adds the 64 partial sums (deterministic), then every invocation writes
// the scores of its columns. The selection (row_select / nm_select with hasScale == 2) reads them.
//
// Bindings
//   0 uniform  Params
//   1 read     colsum  f32 [K]        column sums of |W| over all rows of the matrix
//   2 read     act     f32 [K]        sqrt(scaler_row)^a
//   3 read     w       f32 [rows, K]  one row chunk of the weights
//   4 rw       score   f32 [rows, K]  RIA scores of that chunk
// Dispatch: (1, rows, 1) folded as r = wg.y + wg.z * 65535; one workgroup of 64 per row.

struct Params {
  rows: u32,
  K: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> colsum: array<f32>;
@group(0) @binding(2) var<storage, read> act: array<f32>;
@group(0) @binding(3) var<storage, read> w: array<f32>;
@group(0) @binding(4) var<storage, read_write> score: array<f32>;

var<workgroup> part: array<f32, 64>;

@compute @workgroup_size(64, 1, 1)
fn main(@builtin(local_invocation_id) lid: vec3<u32>, @builtin(workgroup_id) wg: vec3<u32>) {
  // uses: common/fold
  let r = fold_yz(wg);
  // the whole workgroup returns together (r is uniform), so the barriers below stay uniform
  if (r >= p.rows) { return; }
  let base = r * p.K;
  let i = lid.x;
  var sum = 0.0;
  var comp = 0.0;
  for (var c = i; c < p.K; c += 64u) {
    let y = abs(w[base + c]) - comp;
    let t = sum + y;
    comp = (t - sum) - y;
    sum = t;
  }
  part[i] = sum;
  workgroupBarrier();
  for (var stride = 32u; stride > 0u; stride = stride >> 1u) {
    if (i < stride) { part[i] = part[i] + part[i + stride]; }
    workgroupBarrier();
  }
  let rowsum = part[0];
  for (var c = i; c < p.K; c += 64u) {
    let a = abs(w[base + c]);
    var s = 0.0;
    if (colsum[c] > 0.0) { s = a / colsum[c]; }
    if (rowsum > 0.0) { s = s + a / rowsum; }
    score[base + c] = s * act[c];
  }
}

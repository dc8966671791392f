// ria_col_sums: the column sums of |W| that RIA's relative importance divides by (Zhang et al. 2024,
// biomedical-cybernetics/Relative-importance-and-activation-pruning lib/prune.py `prune_ria`:
// torch.sum(torch.abs(W), dim=0)). colsum[c] = sum over the rows r of |w[r, c]|, over one row chunk
// of W: the first chunk sets colsum (accumulate == 0), later chunks add to it (accumulate == 1), so a
// matrix split into several bindings gets the sum of all its rows. Each invocation owns one column and
// adds its rows in order with Kahan compensation (deterministic, no atomics).
//
// Bindings
//   0 uniform  Params
//   1 read     w       f32 [rows, K]  one row chunk of the weights
//   2 rw       colsum  f32 [K]        column sums of |W| (set or accumulated)
// Dispatch: one invocation per column: c = (wg.y * 65535 + wg.x) * 256 + lid.x, i.e. grid1d(K, 256).

struct Params {
  rows: u32,
  K: u32,
  accumulate: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> w: array<f32>;
@group(0) @binding(2) var<storage, read_write> colsum: array<f32>;

@compute @workgroup_size(256, 1, 1)
fn main(@builtin(local_invocation_id) lid: vec3<u32>, @builtin(workgroup_id) wg: vec3<u32>) {
  // uses: common/fold
  let c = fold_xy(wg) * 256u + lid.x;
  if (c >= p.K) { return; }
  var sum = 0.0;
  if (p.accumulate == 1u) { sum = colsum[c]; }
  var comp = 0.0;
  for (var r = 0u; r < p.rows; r++) {
    let y = abs(w[r * p.K + c]) - comp;
    let t = sum + y;
    comp = (t - sum) - y;
    sum = t;
  }
  colsum[c] = sum;
}

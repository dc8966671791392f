// mag_apply: magnitude pruning with the selected threshold: w[i] = 0 where |w[i]| <= thresh, i.e.
// where the bit pattern of |w[i]| <= state.prefix (wanda prune_magnitude: `W_metric <= thresh`,
// thresh = sort(|W|)[floor(numel * r)], so floor(numel * r) + 1 entries plus any exact ties).
//
// Bindings
//   0 uniform  Params
//   1 read     state  u32 [3]   (threshold key, ...)
//   2 rw       w      f32 [n]   one chunk of the matrix, pruned in place
// Dispatch: i = (wg.y * 65535 + wg.x) * 256 + lid.x, grid1d(n, 256)

struct Params {
  n: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> state: array<u32>;
@group(0) @binding(2) var<storage, read_write> w: array<f32>;

@compute @workgroup_size(256, 1, 1)
fn main(@builtin(local_invocation_id) lid: vec3<u32>, @builtin(workgroup_id) wg: vec3<u32>) {
  // uses: common/fold
  let i = fold_xy(wg) * 256u + lid.x;
  if (i >= p.n) { return; }
  if (bitcast<u32>(abs(w[i])) <= state[0]) { w[i] = 0.0; }
}

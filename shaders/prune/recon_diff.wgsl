// recon_diff: d = a - b (the weights removed or changed by pruning: dense minus pruned).
//
// Bindings
//   0 uniform  Params
//   1 read     a  f32 [n]   dense weights
//   2 read     b  f32 [n]   pruned weights
//   3 rw       d  f32 [n]
// Dispatch: i = (wg.y * 65535 + wg.x) * 256 + lid.x, grid1d(n, 256)

struct Params {
  n: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read> b: array<f32>;
@group(0) @binding(3) var<storage, read_write> d: array<f32>;

@compute @workgroup_size(256, 1, 1)
fn main(@builtin(local_invocation_id) lid: vec3<u32>, @builtin(workgroup_id) wg: vec3<u32>) {
  // uses: common/fold
  let i = fold_xy(wg) * 256u + lid.x;
  if (i < p.n) { d[i] = a[i] - b[i]; }
}

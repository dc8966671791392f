// scale: x[i] = x[i] * s in place, for i < n (Cohere's logit_scale on the logits).
//
// Bindings
//   0 uniform  Params
//   1 rw       x  f32 [n]
// Dispatch: grid1d(n, 256): (min(groups, 65535), ceil(groups / 65535), 1), i = (wg.x + wg.y * 65535) * 256 + lid.x

struct Params {
  n: u32,
  s: f32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> x: array<f32>;

@compute @workgroup_size(256, 1, 1)
fn main(@builtin(local_invocation_id) lid: vec3<u32>, @builtin(workgroup_id) wg: vec3<u32>) {
  // uses: common/fold
  let i = fold_xy(wg) * 256u + lid.x;
  if (i < p.n) { x[i] = x[i] * p.s; }
}

// dot_partial: partial[g] = sum of x[i] * y[i] over the 1024 entries i of workgroup g (tree reduction
// in f32; the host adds the partials in f64). Used for the reconstruction error: with P = D H,
// sum(D * P) = sum_r d_r^T H d_r = ||D X||^2 up to H's scale.
//
// Bindings
//   0 uniform  Params
//   1 read     x        f32 [n]
//   2 read     y        f32 [n]
//   3 rw       partial  f32 [groups]
// uses: common/sum256
// Dispatch: g = wg.y * 65535 + wg.x, grid1d(ceil(n / 4), 256); thread t sums entries g*1024 + t + 256*k, k < 4

struct Params {
  n: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> y: array<f32>;
@group(0) @binding(3) var<storage, read_write> partial: array<f32>;

@compute @workgroup_size(256, 1, 1)
fn main(@builtin(local_invocation_id) lid: vec3<u32>, @builtin(workgroup_id) wg: vec3<u32>) {
  // uses: common/fold
  let g = fold_xy(wg);
  var s = 0.0;
  for (var k = 0u; k < 4u; k++) {
    let i = g * 1024u + k * 256u + lid.x;
    if (i < p.n) { s += x[i] * y[i]; }
  }
  let total = sum256(lid.x, s);
  if (lid.x == 0u) { partial[g] = total; }
}

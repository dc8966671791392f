// layernorm: mean-centred LayerNorm with a weight and no bias (HF CohereLayerNorm, fp32), over rows of n:
//   mu = mean(x[r, :]),  var = mean((x[r, :] - mu)^2)
//   out[r, c] = weight[(r mod groups) * n + c] * ((x[r, c] - mu) * inverseSqrt(var + eps))
// groups = 1: the hidden-state norm (x (T, C), weight (C)). groups = heads: the per-head q/k norm of
// Cohere's use_qk_norm (x (T, heads*D) viewed as (T*heads, D) rows, weight (heads, D)).
// Two passes over the row (mean, then centred variance) as the reference does; fixed reduction order.
//
// Bindings
//   0 uniform  Params
//   1 read     x       f32 [rows, n]
//   2 read     weight  f32 [groups, n]
//   3 rw       out     f32 [rows, n]   (may not alias x)
// uses: common/sum256
// Dispatch: (1, rows, 1) folded as r = wg.y + wg.z * 65535; one workgroup of 256 per row.

struct Params {
  rows: u32,
  n: u32,
  groups: u32,
  eps: f32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> weight: array<f32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;

@compute @workgroup_size(256, 1, 1)
fn main(@builtin(local_invocation_id) lid: vec3<u32>, @builtin(workgroup_id) wg: vec3<u32>) {
  // uses: common/fold
  let r = fold_yz(wg);
  if (r >= p.rows) { return; }
  let base = r * p.n;
  var s = 0.0;
  for (var c = lid.x; c < p.n; c += 256u) { s += x[base + c]; }
  let mu = sum256(lid.x, s) / f32(p.n);
  var q = 0.0;
  for (var c = lid.x; c < p.n; c += 256u) {
    let d = x[base + c] - mu;
    q += d * d;
  }
  let inv = inverseSqrt(sum256(lid.x, q) / f32(p.n) + p.eps);
  let wbase = (r % p.groups) * p.n;
  for (var c = lid.x; c < p.n; c += 256u) {
    out[base + c] = weight[wbase + c] * ((x[base + c] - mu) * inv);
  }
}

// rmsnorm: out[t, :] = weight * (x[t, :] * inverseSqrt(mean(x[t, :]^2) + eps))   (HF LlamaRMSNorm, fp32)
//
// Bindings
//   0 uniform  Params
//   1 read     x       f32 [T, C]
//   2 read     weight  f32 [C]
//   3 rw       out     f32 [T, C]
// uses: common/sum256
// Dispatch: (1, T, 1) folded as t = wg.y + wg.z * 65535; one workgroup of 256 per row.

struct Params {
  T: u32,
  C: u32,
  eps: f32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> weight: array<f32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;

@compute @workgroup_size(256, 1, 1)
fn main(@builtin(local_invocation_id) lid: vec3<u32>, @builtin(workgroup_id) wg: vec3<u32>) {
  // uses: common/fold
  let t = fold_yz(wg);
  if (t >= p.T) { return; }
  let base = t * p.C;
  var s = 0.0;
  for (var c = lid.x; c < p.C; c += 256u) {
    let v = x[base + c];
    s += v * v;
  }
  let inv = inverseSqrt(sum256(lid.x, s) / f32(p.C) + p.eps);
  for (var c = lid.x; c < p.C; c += 256u) {
    out[base + c] = weight[c] * (x[base + c] * inv);
  }
}

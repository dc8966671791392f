// hessian_mix: one term of the calibration mixer's SparseGPT Hessian (src/prune/mixHessian.ts),
//   first = 1:  out[i] = w * h[i]
//   first = 0:  out[i] = out[i] + w * h[i]
// for i < n. Called once per used source s, in source order, with w = w_s (normalised mix weight):
// out = sum_s w_s H_s. With one source at w = 1 the result is bitwise that source's Hessian.
//
// Bindings
//   0 uniform  Params
//   1 read     h    f32 [n]   one source's Hessian (or one row panel of it)
//   2 rw       out  f32 [n]   the mixed Hessian (same layout)
// Dispatch: grid1d(n, 256): i = (wg.x + wg.y * 65535) * 256 + lid.x

struct Params {
  n: u32,
  w: f32,
  first: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> h: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;

@compute @workgroup_size(256, 1, 1)
fn main(@builtin(local_invocation_id) lid: vec3<u32>, @builtin(workgroup_id) wg: vec3<u32>) {
  // uses: common/fold
  let i = fold_xy(wg) * 256u + lid.x;
  if (i >= p.n) { return; }
  let t = p.w * h[i];
  if (p.first == 1u) {
    out[i] = t;
  } else {
    out[i] = out[i] + t;
  }
}

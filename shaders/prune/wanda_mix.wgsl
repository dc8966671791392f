// wanda_mix: Wanda's statistic of a weighted calibration mix from per-window values (the calibration
// mixer, src/prune/mix.ts). For every input column c, over the U windows used, in order:
//   acc = acc * coef[2u] + v[idx[u], c] / coef[2u + 1]
// with coef[2u] = f32(W_{u-1} / W_u) and coef[2u+1] = f32(W_u / a_u) for window weights a_u and their
// running sum W_u: a weighted running mean. With every a_u = 1 the factors are f32(n/(n+1)) and n+1,
// exactly wanda_stats' update, so the result is bitwise what wanda_stats gives on those windows.
//
// Bindings
//   0 uniform  Params
//   1 read     v       f32 [windows, C]  per-window statistic (wanda_window_norms)
//   2 read     idx     u32 [U]           windows used, in order
//   3 read     coef    f32 [2*U]         per-window (decay factor, divisor)
//   4 rw       scaler  f32 [C]           the mixed statistic (overwritten)
// Dispatch: c = (wg.y * 65535 + wg.x) * 256 + lid.x, i.e. grid1d(C, 256)

struct Params {
  C: u32,
  U: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> v: array<f32>;
@group(0) @binding(2) var<storage, read> idx: array<u32>;
@group(0) @binding(3) var<storage, read> coef: array<f32>;
@group(0) @binding(4) var<storage, read_write> scaler: array<f32>;

@compute @workgroup_size(256, 1, 1)
fn main(@builtin(local_invocation_id) lid: vec3<u32>, @builtin(workgroup_id) wg: vec3<u32>) {
  // uses: common/fold
  let c = fold_xy(wg) * 256u + lid.x;
  if (c >= p.C) { return; }
  var acc = 0.0;
  for (var u = 0u; u < p.U; u++) {
    let decayed = acc * coef[2u * u];
    acc = decayed + v[idx[u] * p.C + c] / coef[2u * u + 1u];
  }
  scaler[c] = acc;
}

// wanda_window_norms: Wanda's per-window input statistic, kept window by window (for the calibration
// mixer, src/prune/mix.ts), for every input column c and window j of this batch:
//   s_j            = sum_{t < S} x[row0 + j*S + t, c]^2      (Kahan-compensated fp32, as wanda_stats)
//   out[w0 + j, c] = sqrt(s_j)^2                              (the same rounding as wanda_stats)
// so that wanda_mix replaying these values gives bitwise what wanda_stats accumulates.
//
// Bindings
//   0 uniform  Params
//   1 read     x    f32 [>= row0 + B*S, C]  activations; window j = rows row0 + j*S .. + S
//   2 rw       out  f32 [>= w0 + B, C]      per-window statistic, row w0 + j for window j
// Dispatch: c = (wg.y * 65535 + wg.x) * 256 + lid.x, i.e. grid1d(C, 256)
// uses: common/window_sq_norm

struct Params {
  C: u32,
  B: u32,
  S: u32,
  row0: u32,
  w0: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;

@compute @workgroup_size(256, 1, 1)
fn main(@builtin(local_invocation_id) lid: vec3<u32>, @builtin(workgroup_id) wg: vec3<u32>) {
  // uses: common/fold
  let c = fold_xy(wg) * 256u + lid.x;
  if (c >= p.C) { return; }
  for (var j = 0u; j < p.B; j++) {
    out[(p.w0 + j) * p.C + c] = window_sq_norm(p.row0 + j * p.S, p.S, p.C, c);
  }
}

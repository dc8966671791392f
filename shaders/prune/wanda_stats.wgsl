// wanda_stats: Wanda's running input statistic (wanda lib/layerwrapper.py WrappedGPT.add_batch), one
// calibration window at a time, for every input column c:
//   s_j      = sum_{t < S} x[j*S + t, c]^2          (Kahan-compensated fp32 sum of fp32 squares)
//   scaler[c] = scaler[c] * coef[2j] + (sqrt(s_j)^2) / coef[2j+1]
// where coef[2j] = f32(n/(n+1)) and coef[2j+1] = f32(n+1) for n windows seen before window j
// (the reference's `scaler_row *= n/(n+1); n += 1; scaler_row += norm(x)^2 / n`).
//
// Bindings
//   0 uniform  Params
//   1 read     x       f32 [>= row0 + B*S, C]  activations; window j = rows row0 + j*S .. + S
//   2 read     coef    f32 [2*B]      per-window (decay factor, new count)
//   3 rw       scaler  f32 [C]        running statistic, updated in place
// Dispatch: c = (wg.y * 65535 + wg.x) * 256 + lid.x, i.e. grid1d(C, 256)
// uses: common/window_sq_norm

struct Params {
  C: u32,
  B: u32,
  S: u32,
  row0: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> coef: array<f32>;
@group(0) @binding(3) var<storage, read_write> scaler: array<f32>;

@compute @workgroup_size(256, 1, 1)
fn main(@builtin(local_invocation_id) lid: vec3<u32>, @builtin(workgroup_id) wg: vec3<u32>) {
  // uses: common/fold
  let c = fold_xy(wg) * 256u + lid.x;
  if (c >= p.C) { return; }
  var acc = scaler[c];
  for (var j = 0u; j < p.B; j++) {
    let sq = window_sq_norm(p.row0 + j * p.S, p.S, p.C, c);
    let decayed = acc * coef[2u * j];
    acc = decayed + sq / coef[2u * j + 1u];
  }
  scaler[c] = acc;
}

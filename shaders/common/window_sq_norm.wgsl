// window_sq_norm: one calibration window's squared L2 norm of input column c, as Wanda's reference
// takes it (torch.norm(x, p=2, dim=1) ** 2): s = sum_{t < S} x[base + t, c]^2 as a Kahan-compensated
// fp32 sum of fp32 squares, then sqrt(s)^2 (the same rounding as the reference). Shared by
// prune/wanda_stats and prune/wanda_window_norms, so that replaying the per-window values gives
// bitwise what the running statistic accumulates. Not a kernel: appended to kernels with the line
// `// uses: common/window_sq_norm`; it reads the kernel's `x` binding (f32, row-major [rows, C]).

fn window_sq_norm(base: u32, S: u32, C: u32, c: u32) -> f32 {
  var s = 0.0;
  var comp = 0.0;
  for (var t = 0u; t < S; t++) {
    let v = x[(base + t) * C + c];
    let y = v * v - comp;
    let nsum = s + y;
    comp = (nsum - s) - y;
    s = nsum;
  }
  let norm = sqrt(s);
  return norm * norm;
}

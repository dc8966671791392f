// select_score: the pruning score the selection kernels rank, shared by prune/row_select,
// prune/row_select_short and prune/nm_select (wanda prune_wanda: |W| * sqrt(scaler_row); RIA: a whole
// score matrix):
//   score(r, c) = |w[r, c]|              hasScale == 0 (magnitude)
//                 |w[r, c]| * scale[c]    hasScale == 1 (Wanda)
//                 scale[r, c]             hasScale == 2 (RIA, ria_score.wgsl; |w| is not used)
// Not a kernel: appended with the line `// uses: common/select_score`; it reads the field hasScale of
// the kernel's uniform `p`.
//
// Bindings (the kernel's table describes them)
//   1 read  scale  f32 [K] or [rows, K]
//   2 rw    w      f32 [rows, K]   weights, pruned in place by the kernel

@group(0) @binding(1) var<storage, read> scale: array<f32>;
@group(0) @binding(2) var<storage, read_write> w: array<f32>;

// score(r, c) with rowBase = r * K.
fn selectScore(rowBase: u32, c: u32) -> f32 {
  var s = abs(w[rowBase + c]);
  if (p.hasScale == 1u) { s = s * scale[c]; }
  if (p.hasScale == 2u) { s = scale[rowBase + c]; }
  return s;
}

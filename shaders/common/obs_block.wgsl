// obs_block: the column loop's working rows and OBS update shared by prune/sparsegpt_block and
// prune/gptq_block (IST-DASLab `fasterprune` / `fasterquant`, inner `for i in range(count)` loop). A workgroup
// keeps R rows of W1 = W[:, i1:i1+count] in workgroup memory for the whole loop; after the errors of
// column i are in es, every invocation takes its columns t of the rest of the block:
//   W1[r, t] -= err[r] * Hinv1[i, t]   for t in (i, count), r = 0 .. R-1 in order
// Not a kernel: appended with the line `// uses: common/obs_block`. It reads the kernel's bindings
// `u` (f32, U or its row panel that starts at row p.uRow0) and `w` (f32 [rows, d], one row chunk of W),
// and the fields rows, d, i1, count, uRow0 of its uniform `p`.
// Override constants: R (rows per workgroup, <= WG), BS (>= count), WG (invocations).

override R: u32 = 16u;
override BS: u32 = 128u;
override WG: u32 = 128u;

var<workgroup> ws: array<f32, R * BS>; // [R][BS] the rows' W1
var<workgroup> es: array<f32, R>;      // err of the current column

// ws[r, c] = W[r0 + r, i1 + c] for r < R, c < count (0 past the last row), then a barrier.
fn obsLoadRows(t0: u32, r0: u32) {
  let count = p.count;
  for (var e = t0; e < R * count; e += WG) {
    let r = e / count;
    let c = e % count;
    var v = 0.0;
    if (r0 + r < p.rows) { v = w[(r0 + r) * p.d + p.i1 + c]; }
    ws[r * BS + c] = v;
  }
  workgroupBarrier();
}

// Hinv1[j, j], the diagonal of U at column j of the block.
fn obsDiag(j: u32) -> f32 {
  return u[(p.i1 + j - p.uRow0) * p.d + p.i1 + j];
}

// The error of column i, with q the value it keeps: (W1[r, i] - q) / Hinv1[i, i].
fn obsErr(wi: f32, q: f32, i: u32) -> f32 {
  return (wi - q) / obsDiag(i);
}

// After invocations r < R wrote column i's errors to es: barrier, the update above, barrier.
fn obsUpdate(t0: u32, i: u32) {
  workgroupBarrier();
  let urow = (p.i1 + i - p.uRow0) * p.d + p.i1;
  for (var t = i + 1u + t0; t < p.count; t += WG) {
    let h = u[urow + t];
    for (var r = 0u; r < R; r++) {
      ws[r * BS + t] = ws[r * BS + t] - es[r] * h;
    }
  }
  workgroupBarrier();
}

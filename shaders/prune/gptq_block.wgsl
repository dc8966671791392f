// gptq_block: GPTQ's column loop over one block of columns [i1, i1 + count) for one row chunk of W
// (IST-DASLab gptq `GPTQ.fasterquant`, inner `for i in range(count)` loop). With W1 = W[:, block] and
// Hinv1 = U[block, block] (U: upper Cholesky factor of H^-1), for i = 0..count-1 and c = i1 + i:
//   (scale, zero) = qp[row, gidx[c]]
//   code = clamp(round(W1[r, i] / scale) + zero, 0, maxq)   (round half to even)
//   q = scale * (code - zero);   err[r] = (W1[r, i] - q) / Hinv1[i, i]
//   W1[r, t] -= err[r] * Hinv1[i, t]   for t in (i, count)
//   W[r, c] = q;  codes[rowStart + r, c] = code;  errOut[rowStart + r, i] = err[r]
//   (Err1, for W[:, i2:] -= Err1 @ U[block, i2:])
// Rows are independent: each workgroup keeps its R rows of W1 in workgroup memory for the whole loop.
// Per column: invocations r < R quantize and compute err (barrier), then all invocations update the
// remaining columns (barrier).
//
// Bindings
//   0 uniform  Params
//   1 read     u       f32 [d, d]            upper Cholesky factor of H^-1, or its row panel that starts
//                                            at row uRow0 and holds the block's rows
//   2 read     gidx    u32 [d]               the group of every column
//   3 read     qp      vec2<f32> [allRows, groups]  (scale, zero) per row and group
//   4 rw       w       f32 [rows, d]         one row chunk of W, updated in place
//   5 rw       codes   u32 [allRows, d]
//   6 rw       errOut  f32 [allRows, count]
// uses: common/obs_block
// uses: common/quantizer
// Override constants (declared in common/obs_block): R (rows per workgroup, <= WG), BS (>= count), WG (invocations).
// Dispatch: (ceil(rows / R), 1, 1) folded as (x, y) with x <= 65535: slab = y * 65535 + x.

struct Params {
  rows: u32,
  d: u32,
  i1: u32,
  count: u32,
  rowStart: u32,
  groups: u32,
  uRow0: u32,
  maxq: f32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> u: array<f32>;
@group(0) @binding(2) var<storage, read> gidx: array<u32>;
@group(0) @binding(3) var<storage, read> qp: array<vec2<f32>>;
@group(0) @binding(4) var<storage, read_write> w: array<f32>;
@group(0) @binding(5) var<storage, read_write> codes: array<u32>;
@group(0) @binding(6) var<storage, read_write> errOut: array<f32>;

@compute @workgroup_size(WG, 1, 1)
fn main(@builtin(local_invocation_id) lid: vec3<u32>, @builtin(workgroup_id) wg: vec3<u32>) {
  let t0 = lid.x;
  // uses: common/fold
  let r0 = fold_xy(wg) * R;
  let d = p.d;
  let i1 = p.i1;
  let count = p.count;

  obsLoadRows(t0, r0);

  for (var i = 0u; i < count; i++) {
    if (t0 < R) {
      let r = t0;
      let row = r0 + r;
      let wi = ws[r * BS + i];
      var err = 0.0;
      if (row < p.rows) {
        let sz = qp[(p.rowStart + row) * p.groups + gidx[i1 + i]];
        let code = quantCode(wi, sz, p.maxq);
        let q = dequant(code, sz);
        err = obsErr(wi, q, i);
        w[row * d + i1 + i] = q;
        codes[(p.rowStart + row) * d + i1 + i] = u32(code);
        errOut[(p.rowStart + row) * count + i] = err;
      }
      es[r] = err;
    }
    obsUpdate(t0, i);
  }
}

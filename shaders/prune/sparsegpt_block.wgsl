// sparsegpt_block: SparseGPT's column loop over one block of columns [i1, i1 + count) for one row chunk of W
// (IST-DASLab sparsegpt `fasterprune`, inner `for i in range(count)` loop). With W1 = W[:, block] and
// Hinv1 = U[block, block] (U: upper Cholesky factor of H^-1), for i = 0..count-1:
//   mode 1 (N:M), when i % m == 0: for each row, the `prune` smallest of W1[r, j]^2 / Hinv1[j, j]^2 over
//            j in [i, min(i + m, count)) (current, already compensated W1) are marked pruned (ties: lower j)
//   mode 0 (unstructured): pruned <=> bits(tmp[r, i]) <= ctl[CTL_PREFIX], the block threshold selected
//            beforehand from the block-start scores (sparsegpt_score / _hist / _select)
//   q = pruned ? 0 : W1[r, i];   joint mode (maxq > 0, SparseGPT with a quantizer): q = scale * (clamp(round(q / scale)
//            + zero, 0, maxq) - zero) with the row's per-channel (scale, zero), so a pruned weight stays exactly 0
//            (zero is an integer);   err[r] = (W1[r, i] - q) / Hinv1[i, i]
//   W1[r, t] -= err[r] * Hinv1[i, t]   for t in (i, count)
//   W[r, i1 + i] = q;  errOut[rowStart + r, i] = err[r]   (Err1, for W[:, i2:] -= Err1 @ U[block, i2:])
// Rows are independent: each workgroup keeps its R rows of W1 in workgroup memory for the whole loop.
// Per column: invocations r < R decide and compute err (barrier), then all invocations update
// the remaining columns (barrier).
//
// Bindings
//   0 uniform  Params
//   1 read     u       f32 [d, d]            upper Cholesky factor of H^-1, or its row panel that starts at
//                                            row uRow0 and holds the block's rows (split storage)
//   2 read     tmp     u32 [allRows, count]  bit patterns of the scores (mode 0; any buffer in mode 1)
//   3 read     ctl     u32 [CTL_SIZE]        ctl[CTL_PREFIX] = threshold key (mode 0)
//   4 rw       w       f32 [rows, d]         one row chunk of W, updated in place
//   5 rw       errOut  f32 [allRows, count]
//   6 read     qp      vec2<f32> [allRows]    per-row (scale, zero) (joint mode; any small buffer otherwise)
// uses: common/obs_block
// uses: common/quantizer
// Override constants (declared in common/obs_block): R (rows per workgroup, <= WG), BS (>= count), WG (invocations).
// Dispatch: (ceil(rows / R), 1, 1)... folded as (x, y) with x <= 65535: slab = y * 65535 + x.

struct Params {
  rows: u32,
  d: u32,
  i1: u32,
  count: u32,
  rowStart: u32,
  mode: u32,
  m: u32,
  prune: u32,
  uRow0: u32,
  maxq: f32,   // 0: prune only; 2^bits - 1: prune and quantize (joint mode)
}

const CTL_PREFIX: u32 = 4u;

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> u: array<f32>;
@group(0) @binding(2) var<storage, read> tmp: array<u32>;
@group(0) @binding(3) var<storage, read> ctl: array<u32>;
@group(0) @binding(4) var<storage, read_write> w: array<f32>;
@group(0) @binding(5) var<storage, read_write> errOut: array<f32>;
@group(0) @binding(6) var<storage, read> qp: array<vec2<f32>>;

@compute @workgroup_size(WG, 1, 1)
fn main(@builtin(local_invocation_id) lid: vec3<u32>, @builtin(workgroup_id) wg: vec3<u32>) {
  let t0 = lid.x;
  // uses: common/fold
  let r0 = fold_xy(wg) * R;
  let d = p.d;
  let i1 = p.i1;
  let count = p.count;
  let thresh = ctl[CTL_PREFIX];

  obsLoadRows(t0, r0);

  var groupMask = 0u; // invocation r < R: pruned flags of its row's current N:M group (bit j = column g0 + j)
  var g0 = 0u;
  for (var i = 0u; i < count; i++) {
    if (t0 < R) {
      let r = t0;
      let row = r0 + r;
      let wi = ws[r * BS + i];
      var pruned = false;
      if (p.mode == 1u) {
        if (i % p.m == 0u) {
          g0 = i;
          groupMask = 0u;
          let glen = min(p.m, count - i);
          let k = min(p.prune, glen);
          for (var s = 0u; s < k; s++) {
            var best = 0xFFFFFFFFu;
            var bestScore = 0.0;
            for (var j = 0u; j < glen; j++) {
              if ((groupMask & (1u << j)) != 0u) { continue; }
              let v = ws[r * BS + i + j];
              let dg = obsDiag(i + j);
              let sc = (v * v) / (dg * dg);
              if (best == 0xFFFFFFFFu || sc < bestScore) { best = j; bestScore = sc; }
            }
            groupMask |= 1u << best;
          }
        }
        pruned = (groupMask & (1u << (i - g0))) != 0u;
      } else if (row < p.rows) {
        pruned = tmp[(p.rowStart + row) * count + i] <= thresh;
      }
      var q = select(wi, 0.0, pruned);
      if (p.maxq > 0.0 && row < p.rows) {
        let sz = qp[p.rowStart + row];
        q = dequant(quantCode(q, sz, p.maxq), sz);
      }
      let err = obsErr(wi, q, i);
      es[r] = err;
      if (row < p.rows) {
        w[row * d + i1 + i] = q;
        errOut[(p.rowStart + row) * count + i] = err;
      }
    }
    obsUpdate(t0, i);
  }
}

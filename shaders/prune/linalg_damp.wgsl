// linalg_damp: resets the control block of one SparseGPT run and computes its dampening term:
//   diag'[j] = (H[j, j] == 0) ? 1 : H[j, j]            (SparseGPT's dead columns: H[dead, dead] = 1)
//   ctl[CTL_DAMP]   = bits(percdamp * sum_j diag'[j] / d)
//   ctl[CTL_STATUS] = 0xFFFFFFFF  (no Cholesky failure yet; cholesky_panel lowers it to the first bad pivot)
//   ctl[CTL_ZEROS]  = 0, ctl[CTL_HIST + b] = 0 for the 256 radix-select bins
// The sum runs in a fixed order (strided partial sums, then a tree), so it is deterministic.
// Split storage: one dispatch per row panel of H (rows rowBase .. rowBase + rows, in order); invocation t
// carries its partial sum over the diagonal entries j = t mod WG from one panel to the next in
// ctl[CTL_PARTIAL + t] (flags bit 0: first panel, start from 0; bit 1: last panel, reduce and write).
// The additions happen in the same order as in one dispatch over the whole matrix, so the result is
// bitwise the same. One panel: rowBase = 0, rows = d, flags = 3.
//
// Bindings
//   0 uniform  Params
//   1 read     h     f32 [rows, d]   rows rowBase .. rowBase + rows of the row-major Hessian
//   2 rw       ctl   u32 [CTL_SIZE] control block (layout in src/prune/sparsegpt.ts)
// Dispatch: (1, 1, 1), one workgroup of WG invocations.

struct Params {
  d: u32,
  percdamp: f32,
  rowBase: u32,
  rows: u32,
  flags: u32,
}

override WG: u32 = 256u;

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> h: array<f32>;
@group(0) @binding(2) var<storage, read_write> ctl: array<u32>;

const CTL_STATUS: u32 = 0u;
const CTL_DAMP: u32 = 1u;
const CTL_ZEROS: u32 = 2u;
const CTL_HIST: u32 = 16u;
const CTL_PARTIAL: u32 = 272u;

var<workgroup> partial: array<f32, WG>;

@compute @workgroup_size(WG, 1, 1)
fn main(@builtin(local_invocation_id) lid: vec3<u32>) {
  var s = 0.0;
  if ((p.flags & 1u) == 0u) { s = bitcast<f32>(ctl[CTL_PARTIAL + lid.x]); }
  let end = p.rowBase + p.rows;
  for (var j = p.rowBase + (lid.x + WG - p.rowBase % WG) % WG; j < end; j += WG) {
    let v = h[(j - p.rowBase) * p.d + j];
    s += select(v, 1.0, v == 0.0);
  }
  if ((p.flags & 2u) == 0u) {
    ctl[CTL_PARTIAL + lid.x] = bitcast<u32>(s);
    return;
  }
  partial[lid.x] = s;
  for (var b = lid.x; b < 256u; b += WG) { ctl[CTL_HIST + b] = 0u; }
  workgroupBarrier();
  for (var stride = WG / 2u; stride > 0u; stride >>= 1u) {
    if (lid.x < stride) { partial[lid.x] += partial[lid.x + stride]; }
    workgroupBarrier();
  }
  if (lid.x == 0u) {
    ctl[CTL_DAMP] = bitcast<u32>(p.percdamp * (partial[0] / f32(p.d)));
    ctl[CTL_STATUS] = 0xFFFFFFFFu;
    ctl[CTL_ZEROS] = 0u;
  }
}

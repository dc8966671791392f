// linalg_prep: the dampened Hessian in reversed index order, and an identity matrix:
//   a[i, j] = H[d-1-i, d-1-j] + (i == j ? damp : 0), where a zero diagonal entry of H (a dead column)
//             counts as 1 (SparseGPT: H[dead, dead] = 1, then H += damp * I)
//   x[i, j] = (i == j) ? 1 : 0
// With J the reversal permutation, chol_lower(J H J) = J V J where H = V V^T, V upper; the upper Cholesky
// factor of H^-1 is then U = V^-1 = J chol_lower(J H J)^-1 J (see src/prune/sparsegpt.ts).
//
// Split storage: h is the row panel of H with rows hRow0 .. hRow0 + hRows, a and x the row panels of A
// and X with rows aRow0 .. aRow0 + aRows; a dispatch writes the rows i of its a/x panel whose source
// row d-1-i lies in its h panel (one dispatch per overlapping pair). Whole matrices: 0, d, 0, d.
//
// Bindings
//   0 uniform  Params
//   1 read     h     f32 [hRows, d]
//   2 read     ctl   u32 [CTL_SIZE]   ctl[1] = bits of damp (from linalg_damp)
//   3 rw       a     f32 [aRows, d]
//   4 rw       x     f32 [aRows, d]
// Dispatch: (ceil(d / TILE), ceil(aRows / TILE), 1) with TILE x TILE invocations; i = aRow0 + row (y), j = column (x).

struct Params {
  d: u32,
  hRow0: u32,
  hRows: u32,
  aRow0: u32,
  aRows: u32,
}

override TILE: u32 = 16u;

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> h: array<f32>;
@group(0) @binding(2) var<storage, read> ctl: array<u32>;
@group(0) @binding(3) var<storage, read_write> a: array<f32>;
@group(0) @binding(4) var<storage, read_write> x: array<f32>;

@compute @workgroup_size(TILE, TILE, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = p.aRow0 + gid.y;
  let j = gid.x;
  let d = p.d;
  if (gid.y >= p.aRows || i >= d || j >= d) { return; }
  let src = d - 1u - i;
  if (src < p.hRow0 || src >= p.hRow0 + p.hRows) { return; }
  var v = h[(src - p.hRow0) * d + (d - 1u - j)];
  if (i == j) {
    if (v == 0.0) { v = 1.0; }
    v += bitcast<f32>(ctl[1]);
  }
  let o = (i - p.aRow0) * d + j;
  a[o] = v;
  x[o] = select(0.0, 1.0, i == j);
}

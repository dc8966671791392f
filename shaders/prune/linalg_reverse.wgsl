// linalg_reverse: the upper-triangular U[i, j] = X[d-1-i, d-1-j] for j >= i, 0 below the diagonal
// (X lower triangular). With X = chol_lower(J H J)^-1 this is the upper Cholesky factor of H^-1.
//
// Split storage: x is the row panel of X with rows xRow0 .. xRow0 + xRows, u the row panel of U with rows
// uRow0 .. uRow0 + uRows; a dispatch writes the rows i of its u panel whose source row d-1-i lies in its
// x panel (one dispatch per overlapping pair). Whole matrices: 0, d, 0, d.
//
// Bindings
//   0 uniform  Params
//   1 read     x     f32 [xRows, d]
//   2 rw       u     f32 [uRows, d]
// Dispatch: (ceil(d / TILE), ceil(uRows / TILE), 1) with TILE x TILE invocations; i = uRow0 + row (y), j = column (x).

struct Params {
  d: u32,
  xRow0: u32,
  xRows: u32,
  uRow0: u32,
  uRows: u32,
}

override TILE: u32 = 16u;

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> u: array<f32>;

@compute @workgroup_size(TILE, TILE, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = p.uRow0 + gid.y;
  let j = gid.x;
  let d = p.d;
  if (gid.y >= p.uRows || i >= d || j >= d) { return; }
  let src = d - 1u - i;
  if (src < p.xRow0 || src >= p.xRow0 + p.xRows) { return; }
  var v = 0.0;
  if (j >= i) { v = x[(src - p.xRow0) * d + (d - 1u - j)]; }
  u[(i - p.uRow0) * d + j] = v;
}

// linalg_reverse: the upper-triangular U[i, j] = X[d-1-i, d-1-j] for j >= i, 0 below the diagonal
// (X lower triangular). With X = chol_lower(J H J)^-1 this is the upper Cholesky factor of H^-1.
//
// Bindings
//   0 uniform  Params
//   1 read     x     f32 [d, d]
//   2 rw       u     f32 [d, d]
// Dispatch: (ceil(d / TILE), ceil(d / TILE), 1) with TILE x TILE invocations; i = row (y), j = column (x).

struct Params {
  d: u32,
}

override TILE: u32 = 16u;

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> u: array<f32>;

@compute @workgroup_size(TILE, TILE, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.y;
  let j = gid.x;
  let d = p.d;
  if (i >= d || j >= d) { return; }
  var v = 0.0;
  if (j >= i) { v = x[(d - 1u - i) * d + (d - 1u - j)]; }
  u[i * d + j] = v;
}

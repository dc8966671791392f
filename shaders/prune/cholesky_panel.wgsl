// cholesky_panel: the panel solve of a right-looking blocked Cholesky factorization (in place, lower):
//   A[i, k0:k0+nb] <- A[i, k0:k0+nb] Lkk^-T   for i in [rowLo, rowHi) (a part of [k0+nb, d))
// where Lkk = A[k0:k0+nb, k0:k0+nb] was factored by cholesky_diag (which leaves a copy in lkkIn). One invocation per row, forward
// substitution x_j = (b_j - sum_{l<j} x_l Lkk[j, l]) / Lkk[j, j], with Lkk in workgroup memory.
//
// Bindings
//   0 uniform  Params
//   1 rw       a     f32 [d, d]   row-major; lower triangle used. With split storage: the row panel
//                                 that starts at row rowBase and holds rows rowLo .. rowHi
//   2 read     lkkIn f32 [NB, NB] the factored diagonal block (from cholesky_diag)
// Override constants: NB (>= nb), WG (rows per workgroup).
// Dispatch: (ceil((rowHi - rowLo) / WG), 1, 1).

struct Params {
  d: u32,
  k0: u32,
  nb: u32,
  rowBase: u32,
  rowLo: u32,
  rowHi: u32,
}

override NB: u32 = 32u;
override WG: u32 = 64u;

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> a: array<f32>;
@group(0) @binding(2) var<storage, read> lkkIn: array<f32>;

var<workgroup> lkk: array<f32, NB * NB>;          // [NB][NB], lower triangle
var<workgroup> xs: array<f32, WG * (NB + 1u)>;    // one padded row per invocation

@compute @workgroup_size(WG, 1, 1)
fn main(@builtin(local_invocation_id) lid: vec3<u32>, @builtin(workgroup_id) wg: vec3<u32>) {
  let d = p.d;
  let k0 = p.k0;
  let nb = p.nb;
  let t = lid.x;
  for (var e = t; e < nb * nb; e += WG) {
    let i = e / nb;
    let j = e % nb;
    var v = 0.0;
    if (j <= i) { v = lkkIn[i * NB + j]; }
    lkk[i * NB + j] = v;
  }
  workgroupBarrier();
  let row = p.rowLo + wg.x * WG + t;
  if (row >= p.rowHi) { return; }
  let xb = t * (NB + 1u);
  let ra = (row - p.rowBase) * d;
  for (var j = 0u; j < nb; j++) { xs[xb + j] = a[ra + k0 + j]; }
  for (var j = 0u; j < nb; j++) {
    var s = xs[xb + j];
    for (var l = 0u; l < j; l++) { s -= xs[xb + l] * lkk[j * NB + l]; }
    xs[xb + j] = s / lkk[j * NB + j];
  }
  for (var j = 0u; j < nb; j++) { a[ra + k0 + j] = xs[xb + j]; }
}

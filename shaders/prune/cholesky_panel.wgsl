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
// uses: common/lkk_solve
// Override constants: NB (>= nb; declared in common/lkk_block), WG (rows per workgroup).
// Dispatch: (ceil((rowHi - rowLo) / WG), 1, 1).

struct Params {
  d: u32,
  k0: u32,
  nb: u32,
  rowBase: u32,
  rowLo: u32,
  rowHi: u32,
}

override WG: u32 = 64u;

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> a: array<f32>;
@group(0) @binding(2) var<storage, read> lkkIn: array<f32>;

fn lkkEntry(i: u32, j: u32) -> f32 {
  return lkkIn[i * NB + j];
}

@compute @workgroup_size(WG, 1, 1)
fn main(@builtin(local_invocation_id) lid: vec3<u32>, @builtin(workgroup_id) wg: vec3<u32>) {
  let d = p.d;
  let k0 = p.k0;
  let nb = p.nb;
  let t = lid.x;
  loadLkk(t, nb);
  let row = p.rowLo + wg.x * WG + t;
  if (row >= p.rowHi) { return; }
  let xb = t * (NB + 1u);
  let ra = (row - p.rowBase) * d;
  for (var j = 0u; j < nb; j++) { rhs[xb + j] = a[ra + k0 + j]; }
  lkkForwardSolve(xb, nb);
  for (var j = 0u; j < nb; j++) { a[ra + k0 + j] = rhs[xb + j]; }
}

// linalg_trinv_diag: one block row of the blocked inversion of a lower-triangular L (L X = I, right-looking).
// On entry x[k0:k0+nb, :] holds the right-hand side B (identity rows minus the updates of earlier block
// rows, applied by linalg_gemm); this solves Lkk Y = B for the columns j < k0 + nb (columns beyond are 0
// in a lower-triangular inverse) and stores Y there:
//   y[i, j] = (b[i, j] - sum_{l<i} Lkk[i, l] y[l, j]) / Lkk[i, i],   i = 0..nb-1 (forward substitution)
// with Lkk = L[k0:k0+nb, k0:k0+nb] held in workgroup memory. One invocation per column j.
//
// Bindings
//   0 uniform  Params
//   1 read     l     f32 [d, d]   lower triangular (the Cholesky factor)
//   2 rw       x     f32 [d, d]
// Split storage: l and x are the row panels (of L and X) that start at row rowBase and hold rows
// k0 .. k0 + nb; rowBase = 0 for whole matrices.
// uses: common/lkk_solve
// Override constants: NB (>= nb; declared in common/lkk_block), WG (columns per workgroup).
// Dispatch: (ceil((k0 + nb) / WG), 1, 1).

struct Params {
  d: u32,
  k0: u32,
  nb: u32,
  rowBase: u32,
}

override WG: u32 = 64u;

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> l: array<f32>;
@group(0) @binding(2) var<storage, read_write> x: array<f32>;

fn lkkEntry(i: u32, j: u32) -> f32 {
  return l[(p.k0 + i - p.rowBase) * p.d + p.k0 + j];
}

@compute @workgroup_size(WG, 1, 1)
fn main(@builtin(local_invocation_id) lid: vec3<u32>, @builtin(workgroup_id) wg: vec3<u32>) {
  let d = p.d;
  let k0 = p.k0;
  let nb = p.nb;
  let t = lid.x;
  loadLkk(t, nb);
  let col = wg.x * WG + t;
  if (col >= k0 + nb) { return; }
  let yb = t * (NB + 1u);
  for (var i = 0u; i < nb; i++) { rhs[yb + i] = x[(k0 + i - p.rowBase) * d + col]; }
  lkkForwardSolve(yb, nb);
  for (var i = 0u; i < nb; i++) { x[(k0 + i - p.rowBase) * d + col] = rhs[yb + i]; }
}

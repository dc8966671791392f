// lkk_solve: forward substitution with the diagonal block Lkk (common/lkk_block), one right-hand side
// per invocation, shared by prune/cholesky_panel (rows of A against Lkk^T) and prune/linalg_trinv_diag
// (columns of X). Not a kernel: appended with the line `// uses: common/lkk_solve`; it takes the
// kernel's override WG.
//   y_i = (b_i - sum_{l<i} Lkk[i, l] y_l) / Lkk[i, i],   i = 0 .. nb-1, the sum in l order
// uses: common/lkk_block

var<workgroup> rhs: array<f32, WG * (NB + 1u)>; // one padded vector per invocation: b in, y out

// Solves in place on rhs[b .. b + nb) (b = invocation * (NB + 1)).
fn lkkForwardSolve(b: u32, nb: u32) {
  for (var i = 0u; i < nb; i++) {
    var s = rhs[b + i];
    for (var l = 0u; l < i; l++) { s -= lkk[i * NB + l] * rhs[b + l]; }
    rhs[b + i] = s / lkk[i * NB + i];
  }
}

// lkk_block: the diagonal block Lkk = L[k0:k0+nb, k0:k0+nb] of a lower-triangular matrix in workgroup
// memory, shared by prune/cholesky_diag, prune/cholesky_panel and prune/linalg_trinv_diag. Not a
// kernel: appended with the line `// uses: common/lkk_block`. It takes the kernel's override WG
// (invocations per workgroup) and calls the kernel's `fn lkkEntry(i: u32, j: u32) -> f32`, which
// returns element (i, j), j <= i, of the block from wherever the kernel keeps it.
// Override constant: NB (>= nb, the block's row stride in workgroup memory).

override NB: u32 = 32u;

var<workgroup> lkk: array<f32, NB * NB>; // [NB][NB], lower triangle (the strict upper triangle is 0)

// All invocations t = 0 .. WG-1 of the workgroup copy the nb x nb block (lower triangle, zeros
// above it) into lkk, then meet at a barrier: call from uniform control flow.
fn loadLkk(t: u32, nb: u32) {
  for (var e = t; e < nb * nb; e += WG) {
    let i = e / nb;
    let j = e % nb;
    var v = 0.0;
    if (j <= i) { v = lkkEntry(i, j); }
    lkk[i * NB + j] = v;
  }
  workgroupBarrier();
}

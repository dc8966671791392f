// cholesky_diag: factor one diagonal block in place, B = Lkk Lkk^T with B = A[k0:k0+nb, k0:k0+nb] (lower
// triangle; B has already received the trailing updates of all earlier panels, see linalg_gemm). Unblocked
// right-looking Cholesky in workgroup memory:
//   for j: l_jj = sqrt(b_jj);  l_ij = b_ij / l_jj (i > j);  b_ik -= l_ij l_kj (j < k <= i)
// A pivot that is not a finite positive number (A not positive definite, or NaN/Inf input) lowers
// ctl[0] to its global index (ctl[0] = 0xFFFFFFFF means none); the factorization carries on with pivot 1
// so that the dispatch sequence stays the same. Only the lower triangle of the block is read or written.
//
// Bindings
//   0 uniform  Params
//   1 rw       a     f32 [d, d]        row-major; with split storage the row panel of A that starts at row
//                                      rowBase and holds rows k0 .. k0 + nb (rowBase = 0: whole matrix)
//   2 rw       ctl   atomic<u32> [..]  ctl[0] = first failing pivot
//   3 rw       lkk   f32 [NB, NB]      a copy of the factored block (lower triangle, row stride NB) for
//                                      cholesky_panel, which may run on other row panels
// uses: common/lkk_block
// Override constants: NB (>= nb; declared in the part), WG (invocations).
// Dispatch: (1, 1, 1).

struct Params {
  d: u32,
  k0: u32,
  nb: u32,
  rowBase: u32,
}

override WG: u32 = 256u;

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> a: array<f32>;
@group(0) @binding(2) var<storage, read_write> ctl: array<atomic<u32>>;
@group(0) @binding(3) var<storage, read_write> lkkOut: array<f32>;

fn lkkEntry(i: u32, j: u32) -> f32 {
  return a[(p.k0 + i - p.rowBase) * p.d + p.k0 + j];
}

fn badPivot(v: f32) -> bool {
  // Not via (v > 0): compilers may assume no NaN. Exponent all ones = Inf/NaN; sign bit or zero = <= 0.
  let b = bitcast<u32>(v);
  return (b & 0x7f800000u) == 0x7f800000u || (b & 0x80000000u) != 0u || (b & 0x7fffffffu) == 0u;
}

@compute @workgroup_size(WG, 1, 1)
fn main(@builtin(local_invocation_id) lid: vec3<u32>) {
  let d = p.d;
  let k0 = p.k0;
  let nb = p.nb;
  let t = lid.x;
  loadLkk(t, nb);
  for (var j = 0u; j < nb; j++) {
    var piv = lkk[j * NB + j];
    if (badPivot(piv)) {
      if (t == 0u) { atomicMin(&ctl[0], k0 + j); }
      piv = 1.0;
    }
    let ljj = sqrt(piv);
    workgroupBarrier();
    for (var i = j + 1u + t; i < nb; i += WG) { lkk[i * NB + j] = lkk[i * NB + j] / ljj; }
    if (t == 0u) { lkk[j * NB + j] = ljj; }
    workgroupBarrier();
    let m = nb - j - 1u;
    for (var e = t; e < m * m; e += WG) {
      let i = j + 1u + e / m;
      let k = j + 1u + e % m;
      if (k <= i) { lkk[i * NB + k] = lkk[i * NB + k] - lkk[i * NB + j] * lkk[k * NB + j]; }
    }
    workgroupBarrier();
  }
  for (var e = t; e < nb * nb; e += WG) {
    let i = e / nb;
    let j = e % nb;
    if (j <= i) { a[(k0 + i - p.rowBase) * d + k0 + j] = lkk[i * NB + j]; }
    lkkOut[i * NB + j] = lkk[i * NB + j];
  }
}

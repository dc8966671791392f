// sparsegpt_score: SparseGPT's unstructured pruning score of one column block, for one row chunk of W:
//   tmp[(rowStart + r) * count + c] = W[r, i1 + c]^2 / U[i1 + c, i1 + c]^2     (torch: W1**2 / diag(Hinv1)**2)
// for r < rows, c < count. The scores are >= 0, so their f32 bit patterns sort like the values
// (sparsegpt_hist / sparsegpt_select pick the threshold on those bits).
//
// Bindings
//   0 uniform  Params
//   1 read     u     f32 [d, d]          upper Cholesky factor of H^-1, or the row panel of it that starts
//                                        at row uRow0 and holds rows i1 .. i1 + count (split storage)
//   2 read     w     f32 [rows, d]       one row chunk of W
//   3 rw       tmp   f32 [allRows, count]
// Dispatch: grid1d(rows * count, 256) = (x, y) with x <= 65535; flat index = (y * 65535 + x) * 256 + lid.

struct Params {
  rows: u32,
  d: u32,
  i1: u32,
  count: u32,
  rowStart: u32,
  uRow0: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> u: array<f32>;
@group(0) @binding(2) var<storage, read> w: array<f32>;
@group(0) @binding(3) var<storage, read_write> tmp: array<f32>;

@compute @workgroup_size(256, 1, 1)
fn main(@builtin(local_invocation_id) lid: vec3<u32>, @builtin(workgroup_id) wg: vec3<u32>) {
  // uses: common/fold
  let e = fold_xy(wg) * 256u + lid.x;
  if (e >= p.rows * p.count) { return; }
  let r = e / p.count;
  let c = e % p.count;
  let v = w[r * p.d + p.i1 + c];
  let dg = u[(p.i1 + c - p.uRow0) * p.d + p.i1 + c];
  tmp[(p.rowStart + r) * p.count + c] = (v * v) / (dg * dg);
}

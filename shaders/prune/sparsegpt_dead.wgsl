// sparsegpt_dead: zero the weight columns of dead inputs (SparseGPT: W[:, diag(H) == 0] = 0).
//   w[r, j] = 0  if h[j, j] == 0,  for the rows r of one row chunk of W and the columns j in
//   [hRow0, hRow0 + hRows): those whose diagonal lies in the bound row panel of H (split storage;
//   one panel: hRow0 = 0, hRows = cols)
//
// Bindings
//   0 uniform  Params
//   1 read     h     f32 [hRows, cols]   rows hRow0 .. hRow0 + hRows of H
//   2 rw       w     f32 [rows, cols]   one row chunk
// Dispatch: (ceil(cols / 64), rows folded as grid1d rows: y + z * 65535) with 64 invocations.

struct Params {
  rows: u32,
  cols: u32,
  hRow0: u32,
  hRows: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> h: array<f32>;
@group(0) @binding(2) var<storage, read_write> w: array<f32>;

@compute @workgroup_size(64, 1, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(workgroup_id) wg: vec3<u32>) {
  // uses: common/fold
  let r = fold_yz(wg);
  let j = gid.x;
  if (r >= p.rows || j >= p.cols || j < p.hRow0 || j >= p.hRow0 + p.hRows) { return; }
  if (h[(j - p.hRow0) * p.cols + j] == 0.0) { w[r * p.cols + j] = 0.0; }
}

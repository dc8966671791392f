// row_select: per-row unstructured pruning (wanda prune_wanda, unstructured branch). For every row r of
// w, score[c] = |w[r, c]| * (hasScale ? scale[c] : 1); the k lowest scores of the row are set to 0,
// ties broken by lower column index first (torch.sort(stable=True) order). Kept entries are untouched.
// The k-th smallest score is found exactly by a 4-pass radix select (8 bits per pass) on the f32 bit
// pattern of the non-negative score, which orders like the value; then each of the 256 invocations
// owns a contiguous column segment and the entries equal to the threshold are taken in column order
// through an exclusive scan of per-segment counts. Deterministic: no float atomics, no sorting.
//
// Bindings
//   0 uniform  Params
//   1 read     scale  f32 [K]        sqrt(scaler_row) (hasScale == 1; ignored when 0), or
//                     f32 [rows, K]  the whole score (hasScale == 2: RIA, ria_score.wgsl; |w| is not used)
//   2 rw       w      f32 [rows, K]  weights, pruned in place
// uses: common/select_score
// Dispatch: (1, ceil(rows / RPW), 1) folded as g = wg.y + wg.z * 65535; one workgroup of 256 per RPW rows
// (rows g * RPW ..).

struct Params {
  rows: u32,
  K: u32,
  k: u32,
  hasScale: u32,
}

@group(0) @binding(0) var<uniform> p: Params; // bindings 1-2: common/select_score

var<workgroup> hist: array<atomic<u32>, 256>;
var<workgroup> sel: array<u32, 3>; // prefix, mask of decided bits, rank still to find within the prefix
var<workgroup> cnt: array<u32, 256>;

fn key(base: u32, c: u32) -> u32 {
  return bitcast<u32>(selectScore(base, c));
}

// Rows per workgroup (1; more on CPU adapters, whose fixed cost per workgroup is far above a row's
// work: ops.tilesPerGroup's rule, src/gpu/prune.ts rowSelect).
override RPW: u32 = 1u;

@compute @workgroup_size(256, 1, 1)
fn main(@builtin(local_invocation_id) lid: vec3<u32>, @builtin(workgroup_id) wg: vec3<u32>) {
  // uses: common/fold
  let g = fold_yz(wg);
  for (var q = 0u; q < RPW; q++) {
    let r = g * RPW + q;
    if (r >= p.rows) { return; } // uniform per workgroup
    selectRow(r, lid.x);
  }
}

fn selectRow(r: u32, i: u32) {
  let base = r * p.K;
  workgroupBarrier(); // the previous row's readers of sel and cnt are done
  if (i == 0u) {
    sel[0] = 0u;
    sel[1] = 0u;
    sel[2] = p.k - 1u;
  }
  for (var step = 0u; step < 4u; step++) {
    let shift = 24u - 8u * step;
    atomicStore(&hist[i], 0u);
    workgroupBarrier();
    let prefix = sel[0];
    let decided = sel[1];
    for (var c = i; c < p.K; c += 256u) {
      let kk = key(base, c);
      if ((kk & decided) == prefix) { atomicAdd(&hist[(kk >> shift) & 255u], 1u); }
    }
    workgroupBarrier();
    if (i == 0u) {
      var rem = sel[2];
      var b = 0u;
      loop {
        let h = atomicLoad(&hist[b]);
        if (rem < h || b == 255u) { break; }
        rem -= h;
        b++;
      }
      sel[0] = prefix | (b << shift);
      sel[1] = decided | (255u << shift);
      sel[2] = rem;
    }
    workgroupBarrier();
  }
  let thresh = sel[0];
  let need = sel[2] + 1u; // entries equal to the threshold that are pruned (lowest columns first)
  let seg = (p.K + 255u) / 256u;
  let c0 = min(i * seg, p.K);
  let c1 = min(c0 + seg, p.K);
  var eq = 0u;
  for (var c = c0; c < c1; c++) {
    if (key(base, c) == thresh) { eq++; }
  }
  cnt[i] = eq;
  workgroupBarrier();
  if (i == 0u) {
    var run = 0u;
    for (var j = 0u; j < 256u; j++) {
      let v = cnt[j];
      cnt[j] = run;
      run += v;
    }
  }
  workgroupBarrier();
  var idx = cnt[i];
  for (var c = c0; c < c1; c++) {
    let kk = key(base, c);
    if (kk < thresh) {
      w[base + c] = 0.0;
    } else if (kk == thresh) {
      if (idx < need) { w[base + c] = 0.0; }
      idx++;
    }
  }
}

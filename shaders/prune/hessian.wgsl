// hessian: SparseGPT's running Hessian (sparsegpt.py SparseGPT.add_batch), one window at a time:
//   for each window j:  H = H * coef[2j] + (a_j X_j)^T (a_j X_j)
// with X_j = x[row0 + j*S .. row0 + j*S + S, :] ([S, K]), coef[2j] = f32(n/(n+1)) and coef[2j+1] = a_j = f32(sqrt(2/(n+1)))
// for n windows seen before window j, i.e. H = (2/N) * sum_j X_j^T X_j after N windows.
//
// Bindings
//   0 uniform  Params
//   1 read     x     f32 [>= row0 + B*S, K]  activations; window j = rows row0 + j*S .. + S
//   2 read     coef  f32 [2*B]      per-window (decay factor, input scale)
//   3 rw       H     f32 [K, K]     running Hessian, updated in place (split: [hRows, K])
// Tiling: a 64x64 tile of H per workgroup of 16x16 invocations (4x4 outputs each), tokens stepped by
// 16 through workgroup memory; windows are processed in order inside the workgroup. The inner product
// is common/gemm_core's gemmTile (default constants: TK = 16 tokens per step).
// uses: common/gemm_core
// H is symmetric: only workgroups with x >= y work; each writes its tile and the mirrored one.
// Dispatch: (ceil(K / 64), ceil(K / 64), 1); workgroup (x, y) owns H[y*64 .., x*64 ..] and its transpose
// Split storage (panel = 1): H is the row panel with rows hRow0 .. hRow0 + hRows (hRow0 a multiple of
// 64); every workgroup works (no mirroring across panels), owning H[hRow0 + y*64 .., x*64 ..].
// Dispatch then (ceil(K / 64), ceil(hRows / 64), 1). The products are the same (fma(x_a, x_b) and
// fma(x_b, x_a) round alike), so both layouts hold bitwise the same Hessian.

struct Params {
  K: u32,
  B: u32,
  S: u32,
  row0: u32,
  panel: u32,
  hRow0: u32,
  hRows: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> coef: array<f32>;
@group(0) @binding(3) var<storage, read_write> H: array<f32>;

const TILE: u32 = 64u;
// gemmA [TK][TILE]: rows of H (columns a of x); gemmB [TK][TILE]: columns of H (columns b of x).

@compute @workgroup_size(16, 16, 1)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let split = p.panel != 0u;
  if (!split && wg.x < wg.y) { return; }
  let a0 = p.hRow0 + wg.y * TILE;
  let aEnd = select(p.K, min(p.K, p.hRow0 + p.hRows), split);
  let b0 = wg.x * TILE;
  let tid = lid.y * 16u + lid.x;
  var h: array<f32, 16>;
  for (var i = 0u; i < 4u; i++) {
    for (var j = 0u; j < 4u; j++) {
      let a = a0 + lid.y * 4u + i;
      let b = b0 + lid.x * 4u + j;
      var v = 0.0;
      if (a < aEnd && b < p.K) { v = H[(a - p.hRow0) * p.K + b]; }
      h[i * 4u + j] = v;
    }
  }
  for (var w = 0u; w < p.B; w++) {
    let decay = coef[2u * w];
    let scale = coef[2u * w + 1u];
    var acc: array<f32, 16>;
    for (var i = 0u; i < 16u; i++) { acc[i] = 0.0; }
    var t0 = 0u;
    loop {
      if (t0 >= p.S) { break; }
      for (var e4 = 0u; e4 < 4u; e4++) {
        let e = tid + e4 * 256u;  // 0..1023
        let tt = e / TILE;        // token within the step
        let cc = e % TILE;        // column within the tile
        let t = t0 + tt;
        var av = 0.0;
        var bv = 0.0;
        if (t < p.S) {
          let row = (p.row0 + w * p.S + t) * p.K;
          if (a0 + cc < p.K) { av = scale * x[row + a0 + cc]; }
          if (b0 + cc < p.K) { bv = scale * x[row + b0 + cc]; }
        }
        gemmA[tt * TILE + cc] = av;
        gemmB[tt * TILE + cc] = bv;
      }
      workgroupBarrier();
      gemmTile(&acc, lid.x, lid.y);
      workgroupBarrier();
      t0 += TK;
    }
    for (var i = 0u; i < 16u; i++) {
      let decayed = h[i] * decay;
      h[i] = decayed + acc[i];
    }
  }
  for (var i = 0u; i < 4u; i++) {
    for (var j = 0u; j < 4u; j++) {
      let a = a0 + lid.y * 4u + i;
      let b = b0 + lid.x * 4u + j;
      if (a < aEnd && b < p.K) {
        H[(a - p.hRow0) * p.K + b] = h[i * 4u + j];
        if (!split) { H[b * p.K + a] = h[i * 4u + j]; }
      }
    }
  }
}

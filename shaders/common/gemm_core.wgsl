// gemm_core: the register-tiled inner product shared by nn/matmul, prune/linalg_gemm and
// prune/hessian. Not a kernel: src/gpu/shaders.ts appends it to every kernel whose source has the
// line `// uses: common/gemm_core` (WGSL declarations may come in any order, so the kernel's own line
// numbers stay those of its file).
//
//   acc[i*4 + j] = fma(gemmA[kk][ly*4 + i], gemmB[kk][lx*4 + j], acc[i*4 + j])   for kk = 0 .. TK-1 in order
//
// gemmA [TK][TM] and gemmB [TK][TN] are workgroup tiles the kernel fills before calling gemmTile
// (TM = 4 * WGY output rows, TN = 4 * WGX output columns); invocation (lx, ly) owns a 4x4 block of the
// output tile. Every output is one fma chain in k order, so the tile sizes do not change the result.
// Override constants: WGX, WGY (the kernel's workgroup size, default 16 x 16), TK (K step, default 16).

override WGX: u32 = 16u;
override WGY: u32 = 16u;
override TK: u32 = 16u;

var<workgroup> gemmA: array<f32, TK * WGY * 4u>; // [TK][TM]
var<workgroup> gemmB: array<f32, TK * WGX * 4u>; // [TK][TN]

fn gemmTile(acc: ptr<function, array<f32, 16>>, lx: u32, ly: u32) {
  let tm = 4u * WGY;
  let tn = 4u * WGX;
  for (var kk = 0u; kk < TK; kk++) {
    var ar: array<f32, 4>;
    var br: array<f32, 4>;
    for (var i = 0u; i < 4u; i++) {
      ar[i] = gemmA[kk * tm + ly * 4u + i];
      br[i] = gemmB[kk * tn + lx * 4u + i];
    }
    for (var i = 0u; i < 4u; i++) {
      for (var j = 0u; j < 4u; j++) {
        (*acc)[i * 4u + j] = fma(ar[i], br[j], (*acc)[i * 4u + j]);
      }
    }
  }
}

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

// GEMM_VEC4 (set by the engine, src/gpu/device.ts: true on SwiftShader): the accumulators live in four
// vec4 registers for the loop, and every index is a constant. SwiftShader's compiler (Subzero) does not
// unroll loops and addresses a function-local array per invocation lane at every fma (the loop below
// runs 3-5 x slower there); LLVM-based compilers (lavapipe) unroll the loop and run it about 10 %
// faster than the vec4 form. Both are the same fma chains.
override GEMM_VEC4: bool = false;

fn gemmTile(acc: ptr<function, array<f32, 16>>, lx: u32, ly: u32) {
  if (GEMM_VEC4) {
    gemmTileVec4(acc, lx, ly);
    return;
  }
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

fn gemmTileVec4(acc: ptr<function, array<f32, 16>>, lx: u32, ly: u32) {
  let tm = 4u * WGY;
  let tn = 4u * WGX;
  var c0 = vec4<f32>((*acc)[0], (*acc)[1], (*acc)[2], (*acc)[3]);
  var c1 = vec4<f32>((*acc)[4], (*acc)[5], (*acc)[6], (*acc)[7]);
  var c2 = vec4<f32>((*acc)[8], (*acc)[9], (*acc)[10], (*acc)[11]);
  var c3 = vec4<f32>((*acc)[12], (*acc)[13], (*acc)[14], (*acc)[15]);
  for (var kk = 0u; kk < TK; kk++) {
    let ia = kk * tm + ly * 4u;
    let ib = kk * tn + lx * 4u;
    let b = vec4<f32>(gemmB[ib], gemmB[ib + 1u], gemmB[ib + 2u], gemmB[ib + 3u]);
    c0 = fma(vec4<f32>(gemmA[ia]), b, c0);
    c1 = fma(vec4<f32>(gemmA[ia + 1u]), b, c1);
    c2 = fma(vec4<f32>(gemmA[ia + 2u]), b, c2);
    c3 = fma(vec4<f32>(gemmA[ia + 3u]), b, c3);
  }
  *acc = array<f32, 16>(c0.x, c0.y, c0.z, c0.w, c1.x, c1.y, c1.z, c1.w, c2.x, c2.y, c2.z, c2.w, c3.x, c3.y, c3.z, c3.w);
}

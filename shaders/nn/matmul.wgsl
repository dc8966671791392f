// matmul: out[m, colOffset + n] = beta * out[m, colOffset + n] + sum_k x[m, k] * w[n, k] + bias[n]
// (y = x W^T, W in nn.Linear layout [N, K]; W may be a row chunk of a bigger matrix.)
//
// Bindings
//   0 uniform  Params
//   1 read     x     f32 [M, K]          row-major
//   2 read     w     f32 [N, K]          row-major (rows of this chunk)
//   3 read     bias  f32 [N] or [1]      used when hasBias == 1
//   4 rw       out   f32 [M, ldOut]      row-major
//   5 read     x4    vec4<f32> view of binding 1 (the same buffer range), read when VEC4
//   6 read     w4    vec4<f32> view of binding 2, read when VEC4
//   7 read     wp    u32 [ceil(N*K / 2)] binding 2's buffer holding 16-bit weights, two per word
//                    (element 2i in the low half of word i), read instead of w/w4 when WPACK != 0
// uses: common/gemm_core
// uses: common/linear_io
// Override constants (set at pipeline creation, src/gpu/ops.ts matmulTuning; declared in the parts):
//   WGX, WGY  workgroup of WGX x WGY invocations, each computing 4x4 outputs: a TM x TN = 4*WGY x 4*WGX
//             output tile per workgroup (default 16 x 16: 64 x 64)
//   TK        K step through workgroup memory (default 16; a multiple of 4 with VEC4)
//   VEC4      load x and w as vec4<f32> (needs K % 4 == 0 and 16-byte aligned bindings)
//   NT        output tiles per workgroup along N (1; more on CPU adapters: ops.tilesPerGroup)
//   WPACK     0: w is f32; 1: wp holds IEEE f16 (unpack2x16float); 2: wp holds bfloat16 (the upper
//             half of an f32: a shift). Unpacking is exact, so the fma chain is the f32 one.
// Every output is one fma chain over k = 0, 1, ..., K-1 in order (then fma(0, 0, acc) for the padding
// of the last K step), whatever the tile sizes and loads: the result is the same for every choice of
// the constants (bitwise for the same TK; another TK may only turn a -0 into +0).
// Dispatch: (ceil(N / (TN * NT)), ceil(M / TM), 1)

struct Params {
  M: u32,
  N: u32,
  K: u32,
  ldOut: u32,
  colOffset: u32,
  hasBias: u32,
  beta: f32,
}

@group(0) @binding(0) var<uniform> p: Params; // bindings 1-7: common/linear_io

override NT: u32 = 1u;

/** Load rows r0.. of `rows` (TM or TN) x TK k-values into the core's tiles (x into gemmA, w into gemmB). */
fn loadTile(isX: bool, r0: u32, rows: u32, limit: u32, k0: u32, tid: u32) {
  let threads = WGX * WGY;
  if (VEC4) {
    let quads = TK / 4u;
    for (var e = tid; e < rows * quads; e += threads) {
      let r = e / quads;
      let c = (e % quads) * 4u;
      let gr = r0 + r;
      let gk = k0 + c;
      var v = vec4<f32>(0.0);
      if (gr < limit && gk < p.K) {
        if (isX) { v = x4[(gr * p.K + gk) / 4u]; } else { v = weightQuad(gr * p.K + gk); }
      }
      for (var i = 0u; i < 4u; i++) {
        if (isX) { gemmA[(c + i) * rows + r] = v[i]; } else { gemmB[(c + i) * rows + r] = v[i]; }
      }
    }
  } else {
    for (var e = tid; e < rows * TK; e += threads) {
      let r = e / TK;
      let c = e % TK;
      let gr = r0 + r;
      let gk = k0 + c;
      var v = 0.0;
      if (gr < limit && gk < p.K) {
        if (isX) { v = x[gr * p.K + gk]; } else { v = weight(gr * p.K + gk); }
      }
      if (isX) { gemmA[c * rows + r] = v; } else { gemmB[c * rows + r] = v; }
    }
  }
}

@compute @workgroup_size(WGX, WGY, 1)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  for (var t = 0u; t < NT; t++) {
    tile(wg.y * 4u * WGY, (wg.x * NT + t) * 4u * WGX, lid);
  }
}

/** The output tile at rows m0.., columns n0.. (nothing past N: the last workgroup's extra tiles). */
fn tile(m0: u32, n0: u32, lid: vec3<u32>) {
  let TM = 4u * WGY;
  let TN = 4u * WGX;
  if (n0 >= p.N) { return; } // uniform per workgroup
  let tid = lid.y * WGX + lid.x;
  var acc: array<f32, 16>;
  for (var i = 0u; i < 16u; i++) { acc[i] = 0.0; }

  var k0 = 0u;
  loop {
    if (k0 >= p.K) { break; }
    loadTile(true, m0, TM, p.M, k0, tid);
    loadTile(false, n0, TN, p.N, k0, tid);
    workgroupBarrier();
    gemmTile(&acc, lid.x, lid.y);
    workgroupBarrier();
    k0 += TK;
  }

  for (var i = 0u; i < 4u; i++) {
    let gm = m0 + lid.y * 4u + i;
    if (gm >= p.M) { continue; }
    for (var j = 0u; j < 4u; j++) {
      let gn = n0 + lid.x * 4u + j;
      if (gn >= p.N) { continue; }
      storeOut(gm * p.ldOut + p.colOffset + gn, gn, acc[i * 4u + j]);
    }
  }
}

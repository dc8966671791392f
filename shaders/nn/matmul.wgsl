// matmul: out[m, colOffset + n] = beta * out[m, colOffset + n] + sum_k x[m, k] * w[n, k] + bias[n]
// (y = x W^T, W in nn.Linear layout [N, K]; W may be a row chunk of a bigger matrix.)
//
// Bindings
//   0 uniform  Params
//   1 read     x     f32 [M, K]          row-major
//   2 read     w     f32 [N, K]          row-major (rows of this chunk)
//   3 read     bias  f32 [N] or [1]      used when hasBias == 1
//   4 rw       out   f32 [M, ldOut]      row-major
// Tiling: a 64x64 output tile per workgroup of 16x16 invocations, each computing 4x4 outputs,
// K stepped by 16 through workgroup memory.
// Dispatch: (ceil(N / 64), ceil(M / 64), 1)

struct Params {
  M: u32,
  N: u32,
  K: u32,
  ldOut: u32,
  colOffset: u32,
  hasBias: u32,
  beta: f32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> w: array<f32>;
@group(0) @binding(3) var<storage, read> bias: array<f32>;
@group(0) @binding(4) var<storage, read_write> out: array<f32>;

const TM: u32 = 64u;
const TN: u32 = 64u;
const TK: u32 = 16u;

var<workgroup> xs: array<f32, 1024>; // [TK][TM]
var<workgroup> ws: array<f32, 1024>; // [TK][TN]

@compute @workgroup_size(16, 16, 1)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let m0 = wg.y * TM;
  let n0 = wg.x * TN;
  let tid = lid.y * 16u + lid.x;
  var acc: array<f32, 16>;
  for (var i = 0u; i < 16u; i++) { acc[i] = 0.0; }

  var k0 = 0u;
  loop {
    if (k0 >= p.K) { break; }
    // Each of the 256 invocations loads 4 elements of each tile (64 rows x 16 k).
    for (var j = 0u; j < 4u; j++) {
      let e = tid + j * 256u;      // 0..1023
      let r = e / TK;              // tile row 0..63
      let c = e % TK;              // k within tile
      let gk = k0 + c;
      let gm = m0 + r;
      let gn = n0 + r;
      var xv = 0.0;
      if (gm < p.M && gk < p.K) { xv = x[gm * p.K + gk]; }
      var wv = 0.0;
      if (gn < p.N && gk < p.K) { wv = w[gn * p.K + gk]; }
      xs[c * TM + r] = xv;
      ws[c * TN + r] = wv;
    }
    workgroupBarrier();
    for (var c = 0u; c < TK; c++) {
      var xr: array<f32, 4>;
      var wr: array<f32, 4>;
      for (var i = 0u; i < 4u; i++) {
        xr[i] = xs[c * TM + lid.y * 4u + i];
        wr[i] = ws[c * TN + lid.x * 4u + i];
      }
      for (var i = 0u; i < 4u; i++) {
        for (var j = 0u; j < 4u; j++) {
          acc[i * 4u + j] = fma(xr[i], wr[j], acc[i * 4u + j]);
        }
      }
    }
    workgroupBarrier();
    k0 += TK;
  }

  for (var i = 0u; i < 4u; i++) {
    let gm = m0 + lid.y * 4u + i;
    if (gm >= p.M) { continue; }
    for (var j = 0u; j < 4u; j++) {
      let gn = n0 + lid.x * 4u + j;
      if (gn >= p.N) { continue; }
      let o = gm * p.ldOut + p.colOffset + gn;
      var v = acc[i * 4u + j];
      if (p.hasBias == 1u) { v += bias[gn]; }
      if (p.beta != 0.0) { v += p.beta * out[o]; }
      out[o] = v;
    }
  }
}

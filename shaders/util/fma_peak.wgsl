// fma_peak: the adapter's f32 FMA throughput, for the roofline ratio printed by `npm run bench`.
// Every invocation runs 8 independent fma chains for `iters` steps (16 flops per step) on values that
// stay finite, and writes one sum so the work cannot be removed:
//   a_k <- fma(a_k, m, c) for k < 8;  out[i] = sum_k a_k
// flops = 16 * iters * invocations. No memory traffic inside the loop: this is the compute roof.
//
// Bindings
//   0 uniform  Params
//   1 rw       out  f32 [invocations]
// Override constants: WG (invocations per workgroup).
// Dispatch: (groups, 1, 1); invocation i = wg.x * WG + lid.x.

struct Params {
  iters: u32,
  m: f32,
  c: f32,
}

override WG: u32 = 256u;

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;

@compute @workgroup_size(WG, 1, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.x;
  var a0 = f32(i & 7u) * 0.001;
  var a1 = a0 + 0.1;
  var a2 = a0 + 0.2;
  var a3 = a0 + 0.3;
  var a4 = a0 + 0.4;
  var a5 = a0 + 0.5;
  var a6 = a0 + 0.6;
  var a7 = a0 + 0.7;
  for (var t = 0u; t < p.iters; t++) {
    a0 = fma(a0, p.m, p.c);
    a1 = fma(a1, p.m, p.c);
    a2 = fma(a2, p.m, p.c);
    a3 = fma(a3, p.m, p.c);
    a4 = fma(a4, p.m, p.c);
    a5 = fma(a5, p.m, p.c);
    a6 = fma(a6, p.m, p.c);
    a7 = fma(a7, p.m, p.c);
  }
  if (i < arrayLength(&out)) { out[i] = a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7; }
}

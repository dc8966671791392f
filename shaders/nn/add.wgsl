// add: x[i] += y[i]   (residual connection)
//
// Bindings
//   0 uniform  Params
//   1 read     y  f32 [n]
//   2 rw       x  f32 [n]
// Dispatch: i = (wg.y * 65535 + wg.x) * 256 + lid

struct Params {
  n: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> y: array<f32>;
@group(0) @binding(2) var<storage, read_write> x: array<f32>;

@compute @workgroup_size(256, 1, 1)
fn main(@builtin(local_invocation_id) lid: vec3<u32>, @builtin(workgroup_id) wg: vec3<u32>) {
  let i = (wg.y * 65535u + wg.x) * 256u + lid.x;
  if (i >= p.n) { return; }
  x[i] = x[i] + y[i];
}

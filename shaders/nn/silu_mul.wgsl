// silu_mul: gate[i] = silu(gate[i]) * up[i] in place, silu(x) = x / (1 + exp(-x))   (SwiGLU of the Llama MLP)
//
// Bindings
//   0 uniform  Params
//   1 read     up    f32 [n]
//   2 rw       gate  f32 [n]   input and output
// Dispatch: i = (wg.y * 65535 + wg.x) * 256 + lid

struct Params {
  n: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> up: array<f32>;
@group(0) @binding(2) var<storage, read_write> gate: array<f32>;

@compute @workgroup_size(256, 1, 1)
fn main(@builtin(local_invocation_id) lid: vec3<u32>, @builtin(workgroup_id) wg: vec3<u32>) {
  // uses: common/fold
  let i = fold_xy(wg) * 256u + lid.x;
  if (i >= p.n) { return; }
  let g = gate[i];
  gate[i] = g / (1.0 + exp(-g)) * up[i];
}

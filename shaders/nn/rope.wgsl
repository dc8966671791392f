// rope: rotary position embedding in place, HF rotate_half convention:
//   for i < D/2:  a = v[i], b = v[i + D/2], angle = pos * invFreq[i]
//                 v[i] = a*cos - b*sin,  v[i + D/2] = b*cos + a*sin
// pos = (t mod S) + posOffset: every sequence of the batch starts at position posOffset.
//
// Bindings
//   0 uniform  Params
//   1 read     invFreq  f32 [D/2]   (llama3 / linear scaling already applied on the CPU)
//   2 rw       v        f32 [T, heads, D] (row stride `stride` floats, head h at column colOffset + h*D)
// Dispatch: (ceil(heads * D/2 / 64), T, 1) folded as t = wg.y + wg.z * 65535

struct Params {
  T: u32,
  S: u32,
  heads: u32,
  D: u32,
  stride: u32,
  colOffset: u32,
  posOffset: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> invFreq: array<f32>;
@group(0) @binding(2) var<storage, read_write> v: array<f32>;

@compute @workgroup_size(64, 1, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(workgroup_id) wg: vec3<u32>) {
  let t = wg.y + wg.z * 65535u;
  let half = p.D / 2u;
  let e = gid.x;
  if (t >= p.T || e >= p.heads * half) { return; }
  let h = e / half;
  let i = e % half;
  let pos = f32((t % p.S) + p.posOffset);
  let angle = pos * invFreq[i];
  let c = cos(angle);
  let s = sin(angle);
  let base = t * p.stride + p.colOffset + h * p.D;
  let a = v[base + i];
  let b = v[base + i + half];
  v[base + i] = a * c - b * s;
  v[base + i + half] = b * c + a * s;
}

// rope: rotary position embedding in place. For i < D/2, with c = cosT[pos, i], s = sinT[pos, i]:
//   interleaved = 0 (HF Llama rotate_half, halves):  ia = i,   ib = i + D/2
//   interleaved = 1 (HF Cohere rotate_half, pairs):  ia = 2i,  ib = 2i + 1
//   a = v[ia], b = v[ib];  v[ia] = a*c - b*s,  v[ib] = b*c + a*s
// pos = t mod S: every sequence of the batch starts at position 0; with offsets == 1 sequence
// b = t / S starts at position seqInfo[2b + 1] instead (its cached prefix length, see attention.wgsl),
// and the tables must cover every position. The cos/sin tables are computed on
// the CPU (see ropeTables in src/gpu/ops.ts): GPU sin/cos are not accurate enough on every adapter
// (SwiftShader's are off by ~2e-4).
//
// Bindings
//   0 uniform  Params
//   1 read     cosT  f32 [positions, D/2] (positions >= S, or >= S + longest prefix)
//   2 read     sinT  f32 [positions, D/2]
//   3 rw       v     f32 [T, heads, D] (row stride `stride` floats, head h at column colOffset + h*D)
//   4 read     seqInfo  u32 [T / S, 2]  per sequence: (unused, start position); any buffer when offsets == 0
// Dispatch: (ceil(heads * D/2 / 64), T, 1) folded as t = wg.y + wg.z * 65535

struct Params {
  T: u32,
  S: u32,
  heads: u32,
  D: u32,
  stride: u32,
  colOffset: u32,
  interleaved: u32,
  offsets: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> cosT: array<f32>;
@group(0) @binding(2) var<storage, read> sinT: array<f32>;
@group(0) @binding(3) var<storage, read_write> v: array<f32>;
@group(0) @binding(4) var<storage, read> seqInfo: array<u32>;

@compute @workgroup_size(64, 1, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(workgroup_id) wg: vec3<u32>) {
  // uses: common/fold
  let t = fold_yz(wg);
  let half = p.D / 2u;
  let e = gid.x;
  if (t >= p.T || e >= p.heads * half) { return; }
  let h = e / half;
  let i = e % half;
  var pos = t % p.S;
  if (p.offsets != 0u) { pos += seqInfo[2u * (t / p.S) + 1u]; }
  let c = cosT[pos * half + i];
  let s = sinT[pos * half + i];
  let base = t * p.stride + p.colOffset + h * p.D;
  var ia = i;
  var ib = i + half;
  if (p.interleaved != 0u) {
    ia = 2u * i;
    ib = 2u * i + 1u;
  }
  let a = v[base + ia];
  let b = v[base + ib];
  v[base + ia] = a * c - b * s;
  v[base + ib] = b * c + a * s;
}

// convert: 16-bit floats packed two per u32 word to f32 (no shader-f16 needed).
//   mode 0: IEEE f16 (unpack2x16float); mode 1: bfloat16 (upper half of an f32)
//   out[i] = value of the 16-bit element i (element 2w in the low half of word w, 2w+1 in the high half)
//
// Bindings
//   0 uniform  Params
//   1 read     src  u32 [ceil(n / 2)]
//   2 rw       out  f32 [n]
// Dispatch: i = (wg.y * 65535 + wg.x) * 256 + lid

struct Params {
  n: u32,
  mode: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> src: array<u32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;

@compute @workgroup_size(256, 1, 1)
fn main(@builtin(local_invocation_id) lid: vec3<u32>, @builtin(workgroup_id) wg: vec3<u32>) {
  // uses: common/fold
  let i = fold_xy(wg) * 256u + lid.x;
  if (i >= p.n) { return; }
  let word = src[i / 2u];
  let hi = (i % 2u) == 1u;
  if (p.mode == 0u) {
    let pair = unpack2x16float(word);
    out[i] = select(pair.x, pair.y, hi);
  } else {
    let bits = select(word & 0xffffu, word >> 16u, hi);
    out[i] = bitcast<f32>(bits << 16u);
  }
}

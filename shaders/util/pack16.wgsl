// pack16: f32 values to 16-bit floats packed two per u32 word, rounded to nearest even (torch's
// `.to(torch.bfloat16)` / `.to(torch.float16)`, and src/io/dtypes.ts f32ToBf16Bits / f32ToF16Bits):
//   mode 0: IEEE f16 (overflow to infinity, subnormals exact, below half the smallest subnormal to 0)
//   mode 1: bfloat16 (the upper half of the f32 after rounding; NaN stays a quiet NaN)
//   out[w] = bits16(src[2w]) | bits16(src[2w + 1]) << 16   (a missing last element packs as 0)
// The inverse is shaders/util/convert.wgsl; convert(pack16(x)) == x for every x that is a 16-bit value.
//
// Bindings
//   0 uniform  Params
//   1 read     src  u32 [n]            the f32 values' bits (read as u32: no float ops on NaN/Inf)
//   2 rw       out  u32 [ceil(n / 2)]
// Dispatch: w = (wg.y * 65535 + wg.x) * 256 + lid.x, grid1d(ceil(n / 2), 256)

struct Params {
  n: u32,
  mode: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> src: array<u32>;
@group(0) @binding(2) var<storage, read_write> out: array<u32>;

fn toBf16(u: u32) -> u32 {
  if ((u & 0x7f800000u) == 0x7f800000u && (u & 0x7fffffu) != 0u) { return ((u >> 16u) | 0x40u) & 0xffffu; }
  return ((u + 0x7fffu + ((u >> 16u) & 1u)) >> 16u) & 0xffffu;
}

fn toF16(u: u32) -> u32 {
  let sign = (u >> 16u) & 0x8000u;
  let e = i32((u >> 23u) & 0xffu);
  var m = u & 0x7fffffu;
  if (e == 255) { return sign | 0x7c00u | select(0u, 0x200u | (m >> 13u), m != 0u); }
  let ex = e - 112; // e - 127 + 15
  if (ex >= 31) { return sign | 0x7c00u; }
  if (ex <= 0) {
    if (ex < -10) { return sign; }
    m = m | 0x800000u;
    let shift = u32(14 - ex);
    var h = m >> shift;
    let rem = m & ((1u << shift) - 1u);
    let half = 1u << (shift - 1u);
    if (rem > half || (rem == half && (h & 1u) == 1u)) { h += 1u; }
    return sign | h;
  }
  var h = (u32(ex) << 10u) | (m >> 13u);
  let rem = m & 0x1fffu;
  if (rem > 0x1000u || (rem == 0x1000u && (h & 1u) == 1u)) { h += 1u; }
  return sign | h;
}

fn bits16(u: u32) -> u32 {
  if (p.mode == 0u) { return toF16(u); }
  return toBf16(u);
}

@compute @workgroup_size(256, 1, 1)
fn main(@builtin(local_invocation_id) lid: vec3<u32>, @builtin(workgroup_id) wg: vec3<u32>) {
  let w = (wg.y * 65535u + wg.x) * 256u + lid.x;
  let i = 2u * w;
  if (i >= p.n) { return; }
  var word = bits16(src[i]);
  if (i + 1u < p.n) { word = word | (bits16(src[i + 1u]) << 16u); }
  out[w] = word;
}

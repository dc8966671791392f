// nonfinite: counts the non-finite entries (NaN, +Inf, -Inf) of x and the smallest index of one.
//   A value is non-finite when its exponent bits are all ones: (bits(x) & 0x7f800000) == 0x7f800000.
//   (Bit test rather than x != x: WGSL lets implementations assume floats are finite.)
//   counter[2*slot]     += #{ i < n : x[i] non-finite }
//   counter[2*slot + 1]  = min(counter[2*slot + 1], base + first such i)   (start it at 0xffffffff)
//   `base` places a row chunk of a larger matrix in that matrix's flat index space.
//
// Bindings
//   0 uniform  Params
//   1 read     x        f32 [n]
//   2 rw       counter  u32 [>= 2*slot + 2]   atomic
// Dispatch: i = (wg.y * 65535 + wg.x) * 256 * PER + e * 256 + lid.x for e < PER, grid1d(n, 256 * PER).
// PER (override): entries per invocation, 1 on a GPU; more on a CPU adapter, whose fixed cost per
// workgroup is far above 256 entries' work (src/gpu/finite.ts). The count and the first index do not
// depend on it.

struct Params {
  n: u32,
  slot: u32,
  base: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> counter: array<atomic<u32>>;

override PER: u32 = 1u;

var<workgroup> count: atomic<u32>;
var<workgroup> first: atomic<u32>;

@compute @workgroup_size(256, 1, 1)
fn main(@builtin(local_invocation_id) lid: vec3<u32>, @builtin(workgroup_id) wg: vec3<u32>) {
  if (lid.x == 0u) {
    atomicStore(&count, 0u);
    atomicStore(&first, 0xffffffffu);
  }
  workgroupBarrier();
  // uses: common/fold
  let i0 = fold_xy(wg) * 256u * PER + lid.x;
  for (var e = 0u; e < PER; e++) {
    let i = i0 + e * 256u;
    if (i < p.n && (bitcast<u32>(x[i]) & 0x7f800000u) == 0x7f800000u) {
      atomicAdd(&count, 1u);
      atomicMin(&first, p.base + i);
    }
  }
  workgroupBarrier();
  if (lid.x == 0u) {
    let c = atomicLoad(&count);
    if (c != 0u) {
      atomicAdd(&counter[2u * p.slot], c);
      atomicMin(&counter[2u * p.slot + 1u], atomicLoad(&first));
    }
  }
}

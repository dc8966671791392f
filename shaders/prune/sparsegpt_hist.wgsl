// sparsegpt_hist: one pass of an 8-bit radix select over u32 keys (the f32 bit patterns of the
// non-negative SparseGPT scores). Counts, per digit value b, the keys whose digits above `shift` equal
// those of the prefix found so far (all keys in the first pass):
//   ctl[CTL_HIST + b] += #{ e < n : (key[e] >> (shift + 8)) == (ctl[CTL_PREFIX] >> (shift + 8)),
//                                     (key[e] >> shift) & 255 == b }
// (shift = 24, 16, 8, 0; the prefix test is skipped when shift == 24). sparsegpt_select consumes the bins.
// Each workgroup counts into workgroup memory first, then adds its nonzero bins to ctl.
//
// Bindings
//   0 uniform  Params
//   1 read     keys  u32 [n]
//   2 rw       ctl   atomic<u32> [CTL_SIZE]
// Dispatch: grid1d(n, WG * PER_THREAD) = (x, y); workgroup g = y * 65535 + x covers
//   [g * WG * PER_THREAD, (g + 1) * WG * PER_THREAD).

struct Params {
  n: u32,
  shift: u32,
}

override WG: u32 = 256u;
override PER_THREAD: u32 = 16u;

const CTL_PREFIX: u32 = 4u;
const CTL_HIST: u32 = 16u;

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> keys: array<u32>;
@group(0) @binding(2) var<storage, read_write> ctl: array<atomic<u32>>;

var<workgroup> lh: array<atomic<u32>, 256>;

@compute @workgroup_size(WG, 1, 1)
fn main(@builtin(local_invocation_id) lid: vec3<u32>, @builtin(workgroup_id) wg: vec3<u32>) {
  for (var b = lid.x; b < 256u; b += WG) { atomicStore(&lh[b], 0u); }
  workgroupBarrier();
  let prefix = atomicLoad(&ctl[CTL_PREFIX]);
  let hi = p.shift + 8u;
  // uses: common/fold
  let g = fold_xy(wg);
  let base = g * WG * PER_THREAD;
  for (var j = 0u; j < PER_THREAD; j++) {
    let e = base + j * WG + lid.x;
    if (e >= p.n) { break; }
    let k = keys[e];
    if (hi < 32u && (k >> hi) != (prefix >> hi)) { continue; }
    atomicAdd(&lh[(k >> p.shift) & 255u], 1u);
  }
  workgroupBarrier();
  for (var b = lid.x; b < 256u; b += WG) {
    let v = atomicLoad(&lh[b]);
    if (v != 0u) { atomicAdd(&ctl[CTL_HIST + b], v); }
  }
}

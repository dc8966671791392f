// sparsegpt_select: finish one radix-select pass. With k the rank (0-based) still sought among the keys
// that match the prefix (k = params.k in the first pass, ctl[CTL_K] later), finds the digit b with
//   sum_{b' < b} hist[b'] <= k < sum_{b' <= b} hist[b']
// and sets ctl[CTL_PREFIX] |= b << shift (0 before the first pass), ctl[CTL_K] = k - sum_{b' < b} hist[b'],
// then clears the bins. After the passes for shift = 24, 16, 8, 0, ctl[CTL_PREFIX] is the k-th smallest key
// (as torch.sort(keys)[k]).
//
// Bindings
//   0 uniform  Params
//   1 rw       ctl   u32 [CTL_SIZE]
// Dispatch: (1, 1, 1), one workgroup of 256 invocations (one per digit value).

struct Params {
  k: u32,
  shift: u32,
}

const CTL_PREFIX: u32 = 4u;
const CTL_K: u32 = 5u;
const CTL_HIST: u32 = 16u;

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> ctl: array<u32>;

var<workgroup> scan: array<u32, 256>;

@compute @workgroup_size(256, 1, 1)
fn main(@builtin(local_invocation_id) lid: vec3<u32>) {
  let b = lid.x;
  let first = p.shift == 24u;
  var k = p.k;
  var prefix = 0u;
  if (!first) {
    k = ctl[CTL_K];
    prefix = ctl[CTL_PREFIX];
  }
  let own = ctl[CTL_HIST + b];
  scan[b] = own;
  workgroupBarrier();
  // Inclusive Hillis-Steele scan.
  for (var off = 1u; off < 256u; off <<= 1u) {
    var v = scan[b];
    if (b >= off) { v += scan[b - off]; }
    workgroupBarrier();
    scan[b] = v;
    workgroupBarrier();
  }
  let incl = scan[b];
  let excl = incl - own;
  if (excl <= k && k < incl) {
    ctl[CTL_PREFIX] = prefix | (b << p.shift);
    ctl[CTL_K] = k - excl;
  }
  ctl[CTL_HIST + b] = 0u;
}

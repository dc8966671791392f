// sparsegpt_count: number of exact zeros in one row chunk of W, added to the control block:
//   ctl[CTL_ZEROS] += #{ e < n : w[e] == 0 }
//
// Bindings
//   0 uniform  Params
//   1 read     w     f32 [n]
//   2 rw       ctl   atomic<u32> [CTL_SIZE]
// Dispatch: grid1d(n, 256 * 16) = (x, y); workgroup g = y * 65535 + x covers [g * 4096, (g + 1) * 4096).

struct Params {
  n: u32,
}

const CTL_ZEROS: u32 = 2u;

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> w: array<f32>;
@group(0) @binding(2) var<storage, read_write> ctl: array<atomic<u32>>;

var<workgroup> total: atomic<u32>;

@compute @workgroup_size(256, 1, 1)
fn main(@builtin(local_invocation_id) lid: vec3<u32>, @builtin(workgroup_id) wg: vec3<u32>) {
  if (lid.x == 0u) { atomicStore(&total, 0u); }
  workgroupBarrier();
  // uses: common/fold
  let base = fold_xy(wg) * 4096u;
  var z = 0u;
  for (var j = 0u; j < 16u; j++) {
    let e = base + j * 256u + lid.x;
    if (e < p.n && w[e] == 0.0) { z++; }
  }
  if (z != 0u) { atomicAdd(&total, z); }
  workgroupBarrier();
  if (lid.x == 0u) {
    let t = atomicLoad(&total);
    if (t != 0u) { atomicAdd(&ctl[CTL_ZEROS], t); }
  }
}

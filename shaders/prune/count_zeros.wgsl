// count_zeros: counter[slot] += number of entries of w that are exactly 0 (+0 or -0).
//
// Bindings
//   0 uniform  Params
//   1 read     w        f32 [n]
//   2 rw       counter  u32 [>= slot + 1]   atomic
// Dispatch: i = (wg.y * 65535 + wg.x) * 256 + lid.x, grid1d(n, 256)

struct Params {
  n: u32,
  slot: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> w: array<f32>;
@group(0) @binding(2) var<storage, read_write> counter: array<atomic<u32>>;

var<workgroup> local: atomic<u32>;

@compute @workgroup_size(256, 1, 1)
fn main(@builtin(local_invocation_id) lid: vec3<u32>, @builtin(workgroup_id) wg: vec3<u32>) {
  if (lid.x == 0u) { atomicStore(&local, 0u); }
  workgroupBarrier();
  // uses: common/fold
  let i = fold_xy(wg) * 256u + lid.x;
  if (i < p.n && w[i] == 0.0) { atomicAdd(&local, 1u); }
  workgroupBarrier();
  if (lid.x == 0u) {
    let c = atomicLoad(&local);
    if (c != 0u) { atomicAdd(&counter[p.slot], c); }
  }
}

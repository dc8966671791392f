// mag_histogram: one pass of a whole-matrix radix select on |w| (magnitude pruning, comparison group =
// the whole matrix, which may span several chunks: one dispatch per chunk into the same histogram).
// key = bit pattern of |w| (orders like the value). Counts, for every entry whose decided high bits
// equal state.prefix (key & state.decided == state.prefix), the byte (key >> shift) & 255 into hist.
//
// Bindings
//   0 uniform  Params
//   1 read     w      f32 [n]     one chunk of the matrix
//   2 read     state  u32 [3]     (prefix, decided-bits mask, remaining rank)
//   3 rw       hist   u32 [256]   atomic counts, accumulated across chunks
// Dispatch: i = (wg.y * 65535 + wg.x) * 256 + lid.x, grid1d(n, 256)

struct Params {
  n: u32,
  shift: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> w: array<f32>;
@group(0) @binding(2) var<storage, read> state: array<u32>;
@group(0) @binding(3) var<storage, read_write> hist: array<atomic<u32>>;

var<workgroup> local: array<atomic<u32>, 256>;

@compute @workgroup_size(256, 1, 1)
fn main(@builtin(local_invocation_id) lid: vec3<u32>, @builtin(workgroup_id) wg: vec3<u32>) {
  atomicStore(&local[lid.x], 0u);
  workgroupBarrier();
  // uses: common/fold
  let i = fold_xy(wg) * 256u + lid.x;
  if (i < p.n) {
    let kk = bitcast<u32>(abs(w[i]));
    if ((kk & state[1]) == state[0]) { atomicAdd(&local[(kk >> p.shift) & 255u], 1u); }
  }
  workgroupBarrier();
  let c = atomicLoad(&local[lid.x]);
  if (c != 0u) { atomicAdd(&hist[lid.x], c); }
}

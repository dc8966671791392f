// embedding: out[t, :] = table[ids[t] - rowStart, :] for tokens whose id falls in this table chunk.
//
// Bindings
//   0 uniform  Params
//   1 read     ids    i32 [T]
//   2 read     table  f32 [rows, C]   rows [rowStart, rowStart + rows) of the embedding matrix
//   3 rw       out    f32 [T, C]
//   4 read     tablep u32 [ceil(rows*C / 2)]  binding 2's buffer holding 16-bit values two per word
//                     (element 2i in the low half of word i), read instead of table when WPACK != 0
// Override constants: WPACK 0: f32 table; 1: IEEE f16 (unpack2x16float); 2: bfloat16 (a shift)
// Dispatch: (ceil(C / 64), T, 1); T may be folded: t = wg.y + wg.z * 65535

struct Params {
  T: u32,
  C: u32,
  rowStart: u32,
  rows: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> ids: array<i32>;
@group(0) @binding(2) var<storage, read> table: array<f32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;
@group(0) @binding(4) var<storage, read> tablep: array<u32>;

override WPACK: u32 = 0u;

fn tableAt(i: u32) -> f32 {
  if (WPACK == 0u) { return table[i]; }
  let word = tablep[i / 2u];
  let hi = (i & 1u) == 1u;
  if (WPACK == 1u) {
    let pair = unpack2x16float(word);
    return select(pair.x, pair.y, hi);
  }
  return bitcast<f32>(select(word << 16u, word & 0xffff0000u, hi));
}

@compute @workgroup_size(64, 1, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(workgroup_id) wg: vec3<u32>) {
  // uses: common/fold
  let t = fold_yz(wg);
  let c = gid.x;
  if (t >= p.T || c >= p.C) { return; }
  let id = ids[t];
  if (id < i32(p.rowStart) || id >= i32(p.rowStart + p.rows)) { return; }
  out[t * p.C + c] = tableAt((u32(id) - p.rowStart) * p.C + c);
}

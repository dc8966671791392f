// mag_refine: after a mag_histogram pass over all chunks, pick the bin that holds rank state.remaining,
// append it to state.prefix at `shift`, subtract the counts of lower bins from the rank, mark the byte
// decided, and clear the histogram for the next pass. After the 4 passes (shift 24, 16, 8, 0)
// state.prefix is the exact key of the element of 0-based rank k in ascending |w| order.
//
// Bindings
//   0 uniform  Params
//   1 rw       hist   u32 [256]
//   2 rw       state  u32 [3]     (prefix, decided-bits mask, remaining rank)
// Dispatch: (1, 1, 1); a single invocation does the work.

struct Params {
  shift: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> hist: array<u32>;
@group(0) @binding(2) var<storage, read_write> state: array<u32>;

@compute @workgroup_size(1, 1, 1)
fn main() {
  var rem = state[2];
  var b = 0u;
  loop {
    let h = hist[b];
    if (rem < h || b == 255u) { break; }
    rem -= h;
    b++;
  }
  state[0] = state[0] | (b << p.shift);
  state[1] = state[1] | (255u << p.shift);
  state[2] = rem;
  for (var j = 0u; j < 256u; j++) { hist[j] = 0u; }
}

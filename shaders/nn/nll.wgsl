// nll: per-token negative log-likelihood from logits, without reading logits back to the CPU.
//   nll[rowOffset + t] = logsumexp(logits[t, :]) - logits[t, target[rowOffset + t]]   (0 where target < 0)
//
// Bindings
//   0 uniform  Params
//   1 read     logits   f32 [Tc, V]    a chunk of Tc token rows
//   2 read     targets  i32 [T]
//   3 rw       nll      f32 [T]
// uses: common/sum256
// Dispatch: (1, Tc, 1) folded as t = wg.y + wg.z * 65535; one workgroup of 256 per row.

struct Params {
  Tc: u32,
  V: u32,
  rowOffset: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> logits: array<f32>;
@group(0) @binding(2) var<storage, read> targets: array<i32>;
@group(0) @binding(3) var<storage, read_write> nll: array<f32>;

var<workgroup> red: array<f32, 256>; // the max; the sum goes through common/sum256

@compute @workgroup_size(256, 1, 1)
fn main(@builtin(local_invocation_id) lid: vec3<u32>, @builtin(workgroup_id) wg: vec3<u32>) {
  // uses: common/fold
  let t = fold_yz(wg);
  if (t >= p.Tc) { return; }
  let base = t * p.V;
  var m = -3.0e38;
  for (var c = lid.x; c < p.V; c += 256u) { m = max(m, logits[base + c]); }
  red[lid.x] = m;
  workgroupBarrier();
  for (var s = 128u; s > 0u; s >>= 1u) {
    if (lid.x < s) { red[lid.x] = max(red[lid.x], red[lid.x + s]); }
    workgroupBarrier();
  }
  let mx = red[0];
  var acc = 0.0;
  for (var c = lid.x; c < p.V; c += 256u) { acc += exp(logits[base + c] - mx); }
  let total = sum256(lid.x, acc);
  if (lid.x == 0u) {
    let tgt = targets[p.rowOffset + t];
    var r = 0.0;
    if (tgt >= 0) { r = mx + log(total) - logits[base + u32(tgt)]; }
    nll[p.rowOffset + t] = r;
  }
}

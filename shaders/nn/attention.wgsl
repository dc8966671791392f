// attention: causal multi-head attention with grouped-query heads, fp32, online softmax.
//   o[t, h, :] = sum_{j in [s0, t]} softmax_j(q[t,h,:] . k[j,g,:] * scale) * v[j, g, :]
//   with g = h / (H / Hkv) and s0 = (t / S) * S (each sequence of S tokens attends only to itself).
// With prefix == 1 (context sharing: a context run once, its keys/values kept), query sequence
// b = t / S first attends the cached rows kc/vc[seqInfo[2b] .. seqInfo[2b] + seqInfo[2b+1]) (its prefix, in
// order), then its own tokens as above; the keys are visited in the same order as when the prefix and
// the sequence run as one, so the arithmetic (and the result) is the same.
//
// Bindings
//   0 uniform  Params
//   1 read     q  f32 [T, H * D]
//   2 read     k  f32 [T, Hkv * D]
//   3 read     v  f32 [T, Hkv * D]
//   4 rw       o  f32 [T, H * D]
//   5 read     kc    f32 [rows, Hkv * D]  cached prefix keys (after RoPE); any buffer when prefix == 0
//   6 read     vc    f32 [rows, Hkv * D]  cached prefix values
//   7 read     seqInfo  u32 [T / S, 2]       per query sequence: first cached row, prefix length
// One invocation per (query token, head); a workgroup holds 64 consecutive tokens of one head and
// shares K/V tiles of KT keys in workgroup memory. D <= 256.
// Dispatch: (ceil(T / 64), H, 1)

struct Params {
  T: u32,
  S: u32,
  H: u32,
  Hkv: u32,
  D: u32,
  scale: f32,
  prefix: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> q: array<f32>;
@group(0) @binding(2) var<storage, read> k: array<f32>;
@group(0) @binding(3) var<storage, read> v: array<f32>;
@group(0) @binding(4) var<storage, read_write> o: array<f32>;
@group(0) @binding(5) var<storage, read> kc: array<f32>;
@group(0) @binding(6) var<storage, read> vc: array<f32>;
@group(0) @binding(7) var<storage, read> seqInfo: array<u32>;

const MAXD: u32 = 256u;
const KT: u32 = 8u;
const WG: u32 = 64u;

var<workgroup> ks: array<f32, 2048>; // [KT][MAXD]
var<workgroup> vs: array<f32, 2048>;

// One online-softmax step: folds the score sc of the next key into the running max mx and sum
// (rescaling acc, the weighted sum of values so far, when the max grows) and returns the key's weight
// exp(sc - mx); the caller adds weight * value to acc. Shared by the cached-prefix and the own keys.
fn softmaxStep(sc: f32, mx: ptr<function, f32>, sum: ptr<function, f32>, acc: ptr<function, array<f32, MAXD>>, D: u32) -> f32 {
  if (sc > *mx) {
    let corr = exp(*mx - sc);
    *sum = *sum * corr;
    for (var d = 0u; d < D; d++) { (*acc)[d] = (*acc)[d] * corr; }
    *mx = sc;
  }
  let pw = exp(sc - *mx);
  *sum += pw;
  return pw;
}

@compute @workgroup_size(64, 1, 1)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let h = wg.y;
  let g = h / (p.H / p.Hkv);
  let D = p.D;
  let t0 = wg.x * WG;
  let t = t0 + lid.x;
  let isQuery = t < p.T;
  let tq = min(t, p.T - 1u);
  let s0 = (tq / p.S) * p.S;
  // key range of the whole workgroup
  let jStart = (t0 / p.S) * p.S;
  let jEnd = min(t0 + WG, p.T); // exclusive

  var qv: array<f32, MAXD>;
  var acc: array<f32, MAXD>;
  let qBase = tq * p.H * D + h * D;
  for (var d = 0u; d < D; d++) {
    qv[d] = q[qBase + d] * p.scale;
    acc[d] = 0.0;
  }
  var mx = -3.0e38;
  var sum = 0.0;
  let kvStride = p.Hkv * D;

  // The cached prefix of this query's sequence (no workgroup memory: queries of one workgroup may
  // belong to sequences with different prefixes).
  if (isQuery && p.prefix != 0u) {
    let b = tq / p.S;
    let r0 = seqInfo[2u * b];
    let pl = seqInfo[2u * b + 1u];
    for (var j = 0u; j < pl; j++) {
      let kb = (r0 + j) * kvStride + g * D;
      var sc = 0.0;
      for (var d = 0u; d < D; d++) { sc = fma(qv[d], kc[kb + d], sc); }
      let pw = softmaxStep(sc, &mx, &sum, &acc, D);
      for (var d = 0u; d < D; d++) { acc[d] = fma(pw, vc[kb + d], acc[d]); }
    }
  }

  var jb = jStart;
  loop {
    if (jb >= jEnd) { break; }
    // cooperative load of KT keys/values
    for (var e = lid.x; e < KT * D; e += WG) {
      let jj = e / D;
      let d = e % D;
      let j = jb + jj;
      var kv = 0.0;
      var vv = 0.0;
      if (j < p.T) {
        kv = k[j * kvStride + g * D + d];
        vv = v[j * kvStride + g * D + d];
      }
      ks[jj * MAXD + d] = kv;
      vs[jj * MAXD + d] = vv;
    }
    workgroupBarrier();
    if (isQuery) {
      for (var jj = 0u; jj < KT; jj++) {
        let j = jb + jj;
        if (j < s0 || j > tq) { continue; }
        var sc = 0.0;
        for (var d = 0u; d < D; d++) { sc = fma(qv[d], ks[jj * MAXD + d], sc); }
        let pw = softmaxStep(sc, &mx, &sum, &acc, D);
        for (var d = 0u; d < D; d++) { acc[d] = fma(pw, vs[jj * MAXD + d], acc[d]); }
      }
    }
    workgroupBarrier();
    jb += KT;
  }
  if (isQuery) {
    let oBase = t * p.H * D + h * D;
    let inv = 1.0 / sum;
    for (var d = 0u; d < D; d++) { o[oBase + d] = acc[d] * inv; }
  }
}

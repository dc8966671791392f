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

// One online-softmax step for the score sc of the next key: when sc is above the running max mx it
// becomes the max, and the running sum is rescaled by corr = exp(old max - sc); the key's weight
// pw = exp(sc - mx) is added to the sum. Returns (corr, pw), corr = 1 when the max stays; the caller
// rescales its weighted sum of values by corr unless it is 1 (a no-op), then adds pw * value. Only
// scalars go by pointer: HLSL passes pointer parameters as inout, copying an array in and out.
fn softmaxStep(sc: f32, mx: ptr<function, f32>, sum: ptr<function, f32>) -> vec2<f32> {
  var corr = 1.0;
  if (sc > *mx) {
    corr = exp(*mx - sc);
    *sum = *sum * corr;
    *mx = sc;
  }
  let pw = exp(sc - *mx);
  *sum += pw;
  return vec2<f32>(corr, pw);
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
      let cw = softmaxStep(sc, &mx, &sum);
      if (cw.x != 1.0) { for (var d = 0u; d < D; d++) { acc[d] = acc[d] * cw.x; } }
      for (var d = 0u; d < D; d++) { acc[d] = fma(cw.y, vc[kb + d], acc[d]); }
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
        let cw = softmaxStep(sc, &mx, &sum);
        if (cw.x != 1.0) { for (var d = 0u; d < D; d++) { acc[d] = acc[d] * cw.x; } }
        for (var d = 0u; d < D; d++) { acc[d] = fma(cw.y, vs[jj * MAXD + d], acc[d]); }
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

// linear_io: the bindings, weight loads and output step shared by nn/matmul and nn/matvec
// (out[m, colOffset + n] = beta * out[m, colOffset + n] + sum_k x[m, k] * w[n, k] + bias[n]).
// Not a kernel: appended with the line `// uses: common/linear_io`. It reads the fields hasBias and
// beta of the kernel's uniform `p`.
//
// Bindings (the kernel's table describes them)
//   1 read x f32 [M, K] · 2 read w f32 [N, K] · 3 read bias f32 [N] or [1] · 4 rw out f32 [M, ldOut]
//   5 read x4, 6 read w4: vec4<f32> views of bindings 1 and 2 · 7 read wp: binding 2's buffer as u32
//   words holding 16-bit weights, two per word (element 2i in the low half of word i)
// Override constants:
//   VEC4   the kernel loads four values at a time (x4, w4)
//   WPACK  0: w is f32; 1: wp holds IEEE f16 (unpack2x16float); 2: wp holds bfloat16 (the upper half
//          of an f32: a shift). Unpacking is exact, so the arithmetic is the f32 one.

override VEC4: bool = false;
override WPACK: u32 = 0u;

@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> w: array<f32>;
@group(0) @binding(3) var<storage, read> bias: array<f32>;
@group(0) @binding(4) var<storage, read_write> out: array<f32>;
@group(0) @binding(5) var<storage, read> x4: array<vec4<f32>>;
@group(0) @binding(6) var<storage, read> w4: array<vec4<f32>>;
@group(0) @binding(7) var<storage, read> wp: array<u32>;

/** The two 16-bit weights of one packed word as f32 (low half first). */
fn unpackWord(word: u32) -> vec2<f32> {
  if (WPACK == 1u) { return unpack2x16float(word); }
  return vec2<f32>(bitcast<f32>(word << 16u), bitcast<f32>(word & 0xffff0000u));
}

/** Weight element e (flat index into this chunk). */
fn weight(e: u32) -> f32 {
  if (WPACK != 0u) {
    let pair = unpackWord(wp[e / 2u]);
    return select(pair.x, pair.y, (e & 1u) == 1u);
  }
  return w[e];
}

/** Weights e .. e + 3 (flat index into this chunk, e a multiple of 4). */
fn weightQuad(e: u32) -> vec4<f32> {
  if (WPACK != 0u) {
    let a = unpackWord(wp[e / 2u]);
    let b = unpackWord(wp[e / 2u + 1u]);
    return vec4<f32>(a.x, a.y, b.x, b.y);
  }
  return w4[e / 4u];
}

/** out[o] = sum (+ bias[n] when hasBias) (+ beta * out[o] when beta != 0), in that order. */
fn storeOut(o: u32, n: u32, sum: f32) {
  var v = sum;
  if (p.hasBias == 1u) { v += bias[n]; }
  if (p.beta != 0.0) { v += p.beta * out[o]; }
  out[o] = v;
}

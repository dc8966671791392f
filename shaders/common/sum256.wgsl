// sum256: the sum of one value per invocation over a workgroup of 256, by a fixed tree (strides
// 128, 64, .., 1: deterministic, the same order on every GPU), shared by nn/layernorm, nn/rmsnorm,
// nn/nll and prune/dot_partial. Not a kernel: appended with the line `// uses: common/sum256`.

var<workgroup> sum256Parts: array<f32, 256>;

// All 256 invocations call it from uniform control flow with their value; each gets the total.
// Barriers before and after, so it may be called again at once.
fn sum256(lid: u32, v: f32) -> f32 {
  sum256Parts[lid] = v;
  workgroupBarrier();
  for (var stride = 128u; stride > 0u; stride >>= 1u) {
    if (lid < stride) { sum256Parts[lid] += sum256Parts[lid + stride]; }
    workgroupBarrier();
  }
  let total = sum256Parts[0];
  workgroupBarrier();
  return total;
}

// quantizer: asymmetric min-max quantization of one weight with its (scale, zero) (IST-DASLab gptq
// quant.py `quantize`), shared by prune/gptq_block and the joint mode of prune/sparsegpt_block:
//   code = clamp(round(x / scale) + zero, 0, maxq)   (round half to even);   q = scale * (code - zero)
// Not a kernel: appended with the line `// uses: common/quantizer`.

fn quantCode(x: f32, sz: vec2<f32>, maxq: f32) -> f32 {
  return clamp(round(x / sz.x) + sz.y, 0.0, maxq);
}

fn dequant(code: f32, sz: vec2<f32>) -> f32 {
  return sz.x * (code - sz.y);
}

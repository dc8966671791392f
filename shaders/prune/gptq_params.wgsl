// gptq_params: asymmetric min-max quantizer parameters of groups of columns, per row (IST-DASLab gptq
// quant.py `Quantizer.find_params(x, weight=True)`, perchannel, asymmetric, no MSE grid). For every row r
// of one row chunk of W and every group g in [gFirst, gFirst + gCount), over the columns
// [g * gs, min(g * gs + gs, d)) of W (as W stands at dispatch time):
//   xmin = min(min_c W[r, c], 0); xmax = max(max_c W[r, c], 0); both 0 -> xmin = -1, xmax = 1
//   scale = (xmax - xmin) / maxq;  zero = round(-xmin / scale)  (round half to even)
//   qp[(rowStart + r) * groups + g] = (scale, zero)
//
// Bindings
//   0 uniform  Params
//   1 read     w    f32 [rows, d]             one row chunk of W
//   2 rw       qp   vec2<f32> [allRows, groups]
// Dispatch: (ceil(rows * gCount / 64), 1, 1) folded as x + y * 65535 workgroups of 64.

struct Params {
  rows: u32,
  d: u32,
  gs: u32,
  gFirst: u32,
  gCount: u32,
  groups: u32,
  rowStart: u32,
  maxq: f32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> w: array<f32>;
@group(0) @binding(2) var<storage, read_write> qp: array<vec2<f32>>;

@compute @workgroup_size(64, 1, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let e = gid.x + gid.y * nwg.x * 64u;
  if (e >= p.rows * p.gCount) { return; }
  let r = e / p.gCount;
  let g = p.gFirst + e % p.gCount;
  let c0 = g * p.gs;
  let c1 = min(c0 + p.gs, p.d);
  var xmin = 0.0;
  var xmax = 0.0;
  for (var c = c0; c < c1; c++) {
    let v = w[r * p.d + c];
    xmin = min(xmin, v);
    xmax = max(xmax, v);
  }
  if (xmin == 0.0 && xmax == 0.0) {
    xmin = -1.0;
    xmax = 1.0;
  }
  let scale = (xmax - xmin) / p.maxq;
  let zero = round(-xmin / scale);
  qp[(p.rowStart + r) * p.groups + g] = vec2<f32>(scale, zero);
}

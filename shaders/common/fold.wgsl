// fold: the flat index of a dispatch grid folded within WebGPU's 65535 workgroups per dimension
// (src/gpu/fold.ts folds it on the host: foldGroups / grid1d into (x, y), foldRows into (y, z)).
// Not a kernel: appended to kernels with the line `// uses: common/fold`; it takes the kernel's
// @builtin(workgroup_id).

const FOLD_MAX: u32 = 65535u;

// Workgroup number of a 1-D grid folded into (x, y), x fastest: y * 65535 + x.
fn fold_xy(wg: vec3<u32>) -> u32 {
  return wg.y * FOLD_MAX + wg.x;
}

// Row of a run of rows folded into (y, z): y + z * 65535 (x indexes columns, or is 0).
fn fold_yz(wg: vec3<u32>) -> u32 {
  return wg.y + wg.z * FOLD_MAX;
}

/**
 * The dispatch fold: WebGPU allows at most 65535 workgroups per grid dimension, so a long 1-D grid is
 * folded into (x, y) and a long run of rows into (y, z). Kernels unfold the index with the shared
 * WGSL part shaders/common/fold.wgsl (`fold_xy`, `fold_yz`), named in a `// uses: common/fold` line.
 */

/** Workgroups per grid dimension (WebGPU's maxComputeWorkgroupsPerDimension default and minimum). */
export const MAX_WORKGROUPS = 65535;

/** `groups` workgroups folded into (x, y), x fastest (`fold_xy`); at least one workgroup. */
export function foldGroups(groups: number): [number, number] {
  if (groups <= MAX_WORKGROUPS) return [Math.max(groups, 1), 1];
  return [MAX_WORKGROUPS, Math.ceil(groups / MAX_WORKGROUPS)];
}

/** A 1-D grid of `n` items in workgroups of `wg`, folded into (x, y). */
export function grid1d(n: number, wg: number): [number, number] {
  return foldGroups(Math.ceil(n / wg));
}

/** (x, y, z): x columns (or 1) and `rows` folded into y + z * 65535 (`fold_yz`); at least one row. */
export function foldRows(x: number, rows: number): [number, number, number] {
  if (rows <= MAX_WORKGROUPS) return [x, Math.max(rows, 1), 1];
  return [x, MAX_WORKGROUPS, Math.ceil(rows / MAX_WORKGROUPS)];
}

import { beforeAll, describe, expect, it } from 'vitest';
import type { Gpu } from '../../src/gpu/device';
import { MAX_WORKGROUPS, foldGroups, foldRows, grid1d } from '../../src/gpu/fold';
import { shaderNames, shaderSource } from '../../src/gpu/shaders';
import { testGpu } from '../helpers/gpu';

let gpu: Gpu;
beforeAll(async () => {
  gpu = await testGpu();
});

describe('the dispatch fold (src/gpu/fold.ts, shaders/common/fold.wgsl)', () => {
  it('folds grids within 65535 per dimension, and the kernels unfold them the same way', () => {
    expect(foldGroups(0)).toEqual([1, 1]);
    expect(foldGroups(MAX_WORKGROUPS)).toEqual([65535, 1]);
    expect(foldGroups(MAX_WORKGROUPS + 1)).toEqual([65535, 2]);
    expect(grid1d(256 * 70_000, 256)).toEqual([65535, 2]);
    expect(foldRows(3, 0)).toEqual([3, 1, 1]);
    expect(foldRows(3, 200_000)).toEqual([3, 65535, 4]);
    // every (x, y) / (y, z) of a folded grid maps to a distinct index below x * y (resp. y * z)
    const [x, y] = foldGroups(65535 * 2 + 5);
    const fold_xy = (wx: number, wy: number) => wy * MAX_WORKGROUPS + wx;
    expect(fold_xy(x - 1, y - 1)).toBe(x * y - 1);
    const fold_yz = (wy: number, wz: number) => wy + wz * MAX_WORKGROUPS;
    expect(fold_yz(MAX_WORKGROUPS - 1, 0) + 1).toBe(fold_yz(0, 1));
  });

  it('no kernel inlines 65535: each one that folds names the shared part, and every kernel compiles with it', async () => {
    const folding = shaderNames().filter((n) => /fold_(xy|yz)\(/.test(shaderSource(n)));
    expect(folding.length).toBeGreaterThanOrEqual(26);
    for (const name of shaderNames()) {
      const src = shaderSource(name);
      const own = src.split('\n// ---- shaders/')[0];
      expect(own, name).not.toMatch(/65535u/);
      if (folding.includes(name)) expect(own, name).toMatch(/^\s*\/\/ uses: common\/fold$/m);
      const info = await gpu.device.createShaderModule({ label: name, code: src }).getCompilationInfo();
      expect(info.messages.filter((m) => m.type === 'error').map((m) => `${name}:${m.lineNum}: ${m.message}`)).toEqual([]);
    }
  });
});

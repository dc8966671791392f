import { describe, expect, it } from 'vitest';
import { shaderNames, shaderSource, withParts } from '../../src/gpu/shaders';
import { outcome } from '../helpers/errors';

const parts = (entries: Record<string, string>): Map<string, string> => new Map(Object.entries(entries));
const build = async (src: string, sources: Map<string, string>): Promise<string> => outcome(Promise.resolve().then(() => withParts('k', src, sources)));

describe('shared WGSL parts (`// uses: common/<part>`, src/gpu/shaders.ts)', () => {
  it('appends each part once after the kernel, a part\'s own parts after it', () => {
    const src = withParts('k', 'kernel\n// uses: common/a\n// uses: common/b\n', parts({
      'common/a': 'A\n// uses: common/c\n',
      'common/b': 'B\n// uses: common/c\n  // uses: common/a\n',
      'common/c': 'C\n',
    }));
    expect(src.split(/\n\/\/ ---- shaders\/(common\/\w+)\.wgsl ----\n/)).toEqual(['kernel\n// uses: common/a\n// uses: common/b\n', 'common/a', 'A\n// uses: common/c\n', 'common/c', 'C\n', 'common/b', 'B\n// uses: common/c\n  // uses: common/a\n']);
  });

  it('a missing part or a circle of parts is a SHADER_COMPILE error that names the chain', async () => {
    expect(await build('// uses: common/a\n', parts({ 'common/a': '// uses: common/nope\n', 'common/b': '' }))).toBe(
      'SHADER_COMPILE: shaders/k.wgsl -> shaders/common/a.wgsl -> shaders/common/nope.wgsl: the part does not exist. Known parts: common/a, common/b.',
    );
    expect(await build('// uses: common/a\n', parts({ 'common/a': '// uses: common/b\n', 'common/b': '// uses: common/a\n' }))).toBe(
      'SHADER_COMPILE: Circular shared parts: shaders/k.wgsl -> shaders/common/a.wgsl -> shaders/common/b.wgsl -> shaders/common/a.wgsl. A part must not use itself; move the common code into a third part.',
    );
    expect(await build('// uses: common/a\n', parts({ 'common/a': 'x\n// uses: common/a\n' }))).toMatch(/^SHADER_COMPILE: Circular shared parts: shaders\/k\.wgsl -> shaders\/common\/a\.wgsl -> shaders\/common\/a\.wgsl\./);
    expect(await outcome(Promise.resolve().then(() => shaderSource('common/fold')))).toMatch(/^SHADER_COMPILE: No shader 'shaders\/common\/fold\.wgsl'\. Known: .*nn\/matmul/);
  });

  it('every kernel\'s parts resolve, and a part\'s own part is appended (lkk_solve brings lkk_block)', () => {
    for (const name of shaderNames()) expect(() => shaderSource(name), name).not.toThrow();
    const trinv = shaderSource('prune/linalg_trinv_diag');
    expect(trinv).toContain('// ---- shaders/common/lkk_solve.wgsl ----');
    expect(trinv).toContain('// ---- shaders/common/lkk_block.wgsl ----');
  });
});

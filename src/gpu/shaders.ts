import { PolyPruneError } from '../common/errors';

/**
 * WGSL sources, one kernel per file under shaders/. Vite (app, CLI and Vitest alike) inlines them
 * as strings, so the browser and Node load exactly the same text.
 */
const files = import.meta.glob('../../shaders/**/*.wgsl', { query: '?raw', import: 'default', eager: true }) as Record<string, string>;

const byName = new Map<string, string>();
for (const [path, src] of Object.entries(files)) {
  const name = path.replace(/^.*\/shaders\//, '').replace(/\.wgsl$/, '');
  byName.set(name, src);
}

/** `// uses: common/<part>` lines: shared WGSL parts (shaders/common/, not kernels) a kernel or part needs. */
const USES = /^[ \t]*\/\/ uses: (common\/[\w-]+)\s*$/gm;

/**
 * `src` (the text of `shaders/<name>.wgsl`) with the shared parts it names in `// uses:` lines
 * appended, each once, after the kernel (so compiler line numbers stay those of its file). A part may
 * itself name parts; they follow it. `sources` maps names (`common/fold`) to WGSL text. A part that
 * does not exist, or a circle of parts, is a SHADER_COMPILE error naming the chain.
 */
export function withParts(name: string, src: string, sources: ReadonlyMap<string, string>): string {
  const out = [src];
  const done = new Set<string>();
  const visit = (code: string, chain: string[]): void => {
    for (const m of code.matchAll(USES)) {
      const part = m[1];
      const path = [...chain, part].map((n) => `shaders/${n}.wgsl`).join(' -> ');
      if (chain.includes(part)) throw new PolyPruneError('SHADER_COMPILE', `Circular shared parts: ${path}. A part must not use itself; move the common code into a third part.`);
      if (done.has(part)) continue;
      const text = sources.get(part);
      if (text === undefined) {
        const known = [...sources.keys()].filter((n) => n.startsWith('common/')).sort();
        throw new PolyPruneError('SHADER_COMPILE', `${path}: the part does not exist. Known parts: ${known.join(', ') || 'none'}.`);
      }
      done.add(part);
      out.push(`\n// ---- shaders/${part}.wgsl ----\n${text}`);
      visit(text, [...chain, part]);
    }
  };
  visit(src, [name]);
  return out.join('');
}

/**
 * Source of `shaders/<name>.wgsl`, e.g. `shaderSource('nn/matmul')`, with the shared parts it names
 * in `// uses:` lines appended (see {@link withParts}).
 */
export function shaderSource(name: string): string {
  const src = byName.get(name);
  if (src === undefined || name.startsWith('common/')) throw new PolyPruneError('SHADER_COMPILE', `No shader 'shaders/${name}.wgsl'. Known: ${shaderNames().join(', ')}`);
  return withParts(name, src, byName);
}

/** Kernel names (the shared parts under common/ are not kernels). */
export function shaderNames(): string[] {
  return [...byName.keys()].filter((n) => !n.startsWith('common/')).sort();
}

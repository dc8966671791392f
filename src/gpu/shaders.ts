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

/** `// uses: common/<part>` lines: shared WGSL parts (shaders/common/, not kernels) a kernel needs. */
const USES = /^[ \t]*\/\/ uses: (common\/[\w-]+)\s*$/gm;

/**
 * Source of `shaders/<name>.wgsl`, e.g. `shaderSource('nn/matmul')`, with the shared parts it names
 * in `// uses:` lines appended (after the kernel, so compiler line numbers stay those of its file).
 */
export function shaderSource(name: string): string {
  const src = byName.get(name);
  if (src === undefined || name.startsWith('common/')) throw new Error(`No shader 'shaders/${name}.wgsl'. Known: ${shaderNames().join(', ')}`);
  const parts = [...new Set([...src.matchAll(USES)].map((m) => m[1]))];
  return [src, ...parts.map((part) => {
    const code = byName.get(part);
    if (code === undefined) throw new Error(`shaders/${name}.wgsl uses 'shaders/${part}.wgsl', which does not exist.`);
    return `\n// ---- shaders/${part}.wgsl ----\n${code}`;
  })].join('');
}

/** Kernel names (the shared parts under common/ are not kernels). */
export function shaderNames(): string[] {
  return [...byName.keys()].filter((n) => !n.startsWith('common/')).sort();
}

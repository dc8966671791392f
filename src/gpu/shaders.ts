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

/** Source of `shaders/<name>.wgsl`, e.g. `shaderSource('nn/matmul')`. */
export function shaderSource(name: string): string {
  const src = byName.get(name);
  if (src === undefined) throw new Error(`No shader 'shaders/${name}.wgsl'. Known: ${[...byName.keys()].sort().join(', ')}`);
  return src;
}

export function shaderNames(): string[] {
  return [...byName.keys()].sort();
}

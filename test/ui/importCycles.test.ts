/**
 * No module of the web app (src/ui/) imports itself back through other modules (issue 20: the feature
 * action files once tied each other in a circle through the history actions). Reads every .ts/.tsx
 * file under src/ui/, follows its relative imports that load code (static, `export ... from`, dynamic
 * `import()`; not `import type`, which leaves no trace at run time: the store's slices and their
 * `AppState` type name each other by design), and fails naming each circle found.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const SRC = path.resolve('src');
const UI = path.join(SRC, 'ui');

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = path.join(dir, n);
    if (statSync(p).isDirectory()) return files(p);
    return /\.tsx?$/.test(n) && !/\.test\.tsx?$/.test(n) && !n.endsWith('.d.ts') ? [p] : [];
  });
}

/** The file a relative specifier names (x.ts, x.tsx, x/index.ts), or null (assets, ?raw shaders, packages). */
function resolve(from: string, spec: string): string | null {
  if (!spec.startsWith('.')) return null;
  const base = path.resolve(path.dirname(from), spec.replace(/\?.*$/, ''));
  for (const c of [base, `${base}.ts`, `${base}.tsx`, path.join(base, 'index.ts'), path.join(base, 'index.tsx')]) if (existsSync(c) && statSync(c).isFile() && /\.tsx?$/.test(c)) return c;
  return null;
}

/** Relative imports of a source file that load code (comments dropped first, so examples in comments do not count). */
function importsOf(file: string, text: string): string[] {
  const code = text
    .replace(/\/\*[\s\S]*?\*\//g, '')
    .replace(/(^|[^:'"`])\/\/.*$/gm, '$1')
    .replace(/^\s*(?:import|export)\s+type\b[^;]*;/gm, '');
  const out: string[] = [];
  for (const m of code.matchAll(/(?:\bfrom\s*|\bimport\s*\(\s*|^\s*import\s+)['"]([^'"]+)['"]/gm)) {
    const r = resolve(file, m[1]);
    if (r) out.push(r);
  }
  return out;
}

/** Strongly connected components with more than one file (Tarjan), each as a list of paths. */
function cycles(graph: Map<string, string[]>): string[][] {
  let index = 0;
  const idx = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const on = new Set<string>();
  const out: string[][] = [];
  const visit = (v: string): void => {
    idx.set(v, index);
    low.set(v, index++);
    stack.push(v);
    on.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!idx.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (on.has(w)) low.set(v, Math.min(low.get(v)!, idx.get(w)!));
    }
    if (low.get(v) === idx.get(v)) {
      const scc: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        on.delete(w);
        scc.push(w);
      } while (w !== v);
      if (scc.length > 1 || (graph.get(v) ?? []).includes(v)) out.push(scc.sort());
    }
  };
  for (const v of graph.keys()) if (!idx.has(v)) visit(v);
  return out;
}

describe('import graph of src/ui', () => {
  it('finds a circle when there is one (the check can fail)', () => {
    const g = new Map([
      ['a', ['b']],
      ['b', ['c']],
      ['c', ['a']],
      ['d', ['a']],
    ]);
    expect(cycles(g)).toEqual([['a', 'b', 'c']]);
    expect(cycles(new Map([['a', ['b']], ['b', []]]))).toEqual([]);
    const here = path.join(SRC, 'ui', 'x.ts');
    expect(importsOf(here, `import { a } from './format';\n// import { b } from './paths';\nconst m = await import('./download');\nimport type { C } from './store';\nimport { type D, e } from './paths';`).map((p) => path.relative(SRC, p))).toEqual([
      path.join('ui', 'format.ts'),
      path.join('ui', 'download.ts'),
      path.join('ui', 'paths.ts'),
    ]);
  });

  it('has no circle', () => {
    const all = files(UI);
    expect(all.length).toBeGreaterThan(40);
    const graph = new Map(all.map((f) => [f, importsOf(f, readFileSync(f, 'utf8'))]));
    const found = cycles(graph).map((c) => c.map((f) => path.relative(SRC, f)).join(' <-> '));
    expect(found, `import circles:\n${found.join('\n')}`).toEqual([]);
  });
});

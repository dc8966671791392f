/**
 * The Experiment panel's default setting must be the one the model card measured, and the card's
 * recorded per-item scores must back the reason it was chosen: at that setting pruning visibly costs
 * task accuracy on the bundled model (docs/eval-tasks.md, "The page's default experiment"). Nothing is
 * hard-coded but the bar: the drop is computed from tools/make-eval-tasks/card-tasks.json, which
 * `card-tasks.mjs table` writes from the scored items.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createExperimentSlice, DEFAULT_EXP_SPARSITY, DEFAULT_EXP_TASK_ITEMS } from '../src/ui/features/experiment/experimentSlice';

interface Cell {
  acc: number;
  n: number;
  correct?: number[];
}
interface Row {
  id: string;
  language: string;
  dense: Cell;
  chosenOwn: Cell | null;
  chosenEn: Cell | null;
}
interface CardTasks {
  chosen: { method: string; sparsity?: string; nm?: string; title: string };
  rows: Row[];
}

const card = JSON.parse(readFileSync(resolve(process.cwd(), 'tools/make-eval-tasks/card-tasks.json'), 'utf8')) as CardTasks;
const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;

/** Paired pruned - dense over the first items both scored: mean and standard error (n - 1). */
function paired(dense: Cell, pruned: Cell): { diff: number; se: number } {
  if (!dense.correct || !pruned.correct) throw new Error('card-tasks.json has no per-item scores; re-run card-tasks.mjs table');
  const n = Math.min(dense.correct.length, pruned.correct.length);
  const d = Array.from({ length: n }, (_, i) => pruned.correct![i] - dense.correct![i]);
  const m = mean(d);
  return { diff: m, se: Math.sqrt(d.reduce((a, x) => a + (x - m) ** 2, 0) / (n - 1) / n) };
}

describe('the page default experiment', () => {
  it('is the setting the model card measured (Wanda, unstructured sparsity, items per cell)', () => {
    const state = createExperimentSlice(() => undefined, () => ({}) as never, {} as never);
    expect(state.expMethod).toBe(card.chosen.method);
    expect(state.expPattern).toEqual({ kind: 'unstructured', sparsity: DEFAULT_EXP_SPARSITY });
    expect(card.chosen.nm).toBeUndefined();
    expect(Number(card.chosen.sparsity)).toBe(DEFAULT_EXP_SPARSITY);
    expect(state.expTaskLimit).toBe(DEFAULT_EXP_TASK_ITEMS);
    // The card scored at least as many items per language as the page uses (where the file has them).
    for (const r of card.rows.filter((x) => x.id.endsWith('.swapfar') && x.chosenEn)) expect(r.chosenEn!.n, r.id).toBeGreaterThanOrEqual(Math.min(DEFAULT_EXP_TASK_ITEMS, r.dense.n));
  });

  it('costs the default task clearly: mean paired drop of at least 5 points, more than 2 standard errors (English calibration)', () => {
    // sw is left out as in the card's summary: 42 items, standard error near 9 points.
    const rows = card.rows.filter((r) => r.id.endsWith('.swapfar') && r.language !== 'sw');
    expect(rows.length).toBe(10);
    const ds = rows.map((r) => {
      // a measured English-calibrated cell: at least one scored item
      expect(r.chosenEn?.n ?? 0, r.id).toBeGreaterThan(0);
      return paired(r.dense, r.chosenEn!);
    });
    const m = mean(ds.map((d) => d.diff));
    const se = Math.sqrt(ds.reduce((a, d) => a + d.se ** 2, 0)) / ds.length;
    expect(Number.isFinite(m) && Number.isFinite(se)).toBe(true);
    expect(m, `mean drop ${m}, se ${se}`).toBeLessThanOrEqual(-0.05);
    expect(-m, `mean drop ${m}, se ${se}`).toBeGreaterThan(2 * se);
  });

  it('own-language calibration costs less than English calibration on the default task (paired, over the languages)', () => {
    const rows = card.rows.filter((r) => r.id.endsWith('.swapfar') && r.language !== 'sw' && r.language !== 'en');
    const ds = rows.map((r) => paired(r.chosenEn!, r.chosenOwn!));
    const m = mean(ds.map((d) => d.diff));
    const se = Math.sqrt(ds.reduce((a, d) => a + d.se ** 2, 0)) / ds.length;
    expect(m, `own - English ${m}, se ${se}`).toBeGreaterThan(2 * se);
  });
});

import { describe, expect, it } from 'vitest';
import type { ModelSummary } from '../../../engine';
import { denseBaseOf, rebalance } from './actions';

const sum = (w: number[]) => w.reduce((a, b) => a + b, 0);

describe('mixer weights', () => {
  it('moving one slider rescales the others so the weights sum to 1', () => {
    expect(rebalance([0.5, 0.5], 0, 0.9).map((x) => +x.toFixed(12))).toEqual([0.9, 0.1]);
    const w = rebalance([0.2, 0.3, 0.5], 2, 0.1);
    expect(sum(w)).toBeCloseTo(1, 12);
    expect(w[0] / w[1]).toBeCloseTo(0.2 / 0.3, 12);
    expect(rebalance([1, 0, 0], 0, 0.4)).toEqual([0.4, 0.3, 0.3]);
    expect(rebalance([0.5, 0.5], 1, 7)).toEqual([0, 1]);
    expect(rebalance([0.5, 0.5], 1, NaN)).toEqual([1, 0]);
    expect(rebalance([1], 0, 0.3)).toEqual([0.3]);
  });
});

describe('the dense base the mixer collects on', () => {
  const m = (id: string, extra: Partial<ModelSummary> = {}): ModelSummary => ({ id, name: id, sha256: id, ...extra }) as ModelSummary;
  const pruning = { method: 'wanda', overallSparsity: 0.5 } as ModelSummary['pruning'];
  const models = [m('dense'), m('pruned', { prunedFrom: 'dense', pruning }), m('mix', { prunedFrom: 'dense', pruning }), m('again', { prunedFrom: 'pruned', pruning }), m('export', { pruning })];
  it('is the active model when dense, else the loaded model it was pruned from', () => {
    expect(denseBaseOf(models, 'dense')?.id).toBe('dense');
    expect(denseBaseOf(models, 'pruned')?.id).toBe('dense');
    expect(denseBaseOf(models, 'again')?.id).toBe('dense');
  });
  it('is undefined for a pruned model without its dense model (an export loaded from files, the dense model unloaded)', () => {
    expect(denseBaseOf(models, 'export')).toBeUndefined();
    expect(denseBaseOf(models.slice(1), 'pruned')).toBeUndefined();
    expect(denseBaseOf(models, null)).toBeUndefined();
  });
});

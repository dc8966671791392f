import { describe, expect, it } from 'vitest';
import { publishedCandidates } from '../../src/experiment/published';

describe('published checkpoint names (multilingual-pruning)', () => {
  it('follows pruned-<model>-<method>-<ratio>-<type>-<dataset>-<lang>-<seed>, the prefix twice for seeds 42 and 1234', () => {
    const run = { model: 'meta-llama/Meta-Llama-3-8B-Instruct', method: 'wanda', ratio: 0.5, nm: { n: 2, m: 4 }, dataset: 'mc4', language: 'zh', seed: 1234 };
    expect(publishedCandidates(run)).toEqual(['multilingual-pruning/pruned-pruned-llama3-8b-instruct-wanda-0.5-2to4-mc4-zh-1234', 'multilingual-pruning/pruned-llama3-8b-instruct-wanda-0.5-2to4-mc4-zh-1234']);
    expect(publishedCandidates({ ...run, seed: 0, nm: undefined, method: 'sparsegpt' })[0]).toBe('multilingual-pruning/pruned-llama3-8b-instruct-sparsegpt-0.5-unstructured-mc4-zh-0');
    expect(publishedCandidates({ ...run, model: 'public/models/polyprune-ml' })).toEqual([]);
  });
});

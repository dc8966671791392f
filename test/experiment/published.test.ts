import { describe, expect, it } from 'vitest';
import { parsePublishedModels, publishedCalibration, publishedCandidates, publishedModelPart } from '../../src/experiment/published';

describe('published checkpoint names (multilingual-pruning)', () => {
  it('follows pruned-<model>-<method>-<ratio>-<type>-<dataset>-<lang>-<seed>, the prefix twice for seeds 42 and 1234', () => {
    const run = { model: 'meta-llama/Meta-Llama-3-8B-Instruct', method: 'wanda', ratio: 0.5, nm: { n: 2, m: 4 }, dataset: 'mc4', language: 'zh', seed: 1234 };
    expect(publishedCandidates(run)).toEqual(['multilingual-pruning/pruned-pruned-llama3-8b-instruct-wanda-0.5-2to4-mc4-zh-1234', 'multilingual-pruning/pruned-llama3-8b-instruct-wanda-0.5-2to4-mc4-zh-1234']);
    expect(publishedCandidates({ ...run, seed: 0, nm: undefined, method: 'sparsegpt' })[0]).toBe('multilingual-pruning/pruned-llama3-8b-instruct-sparsegpt-0.5-unstructured-mc4-zh-0');
    expect(publishedCandidates({ ...run, model: 'public/models/polyprune-ml' })).toEqual([]);
  });
});

describe('published model parts: a table extended by the caller', () => {
  it('knows the organisation\'s base models, takes extra entries (CLI --published-model, page ?publishedModel=) and refuses malformed ones', () => {
    const run = { model: 'polyprune/gated@main (Hugging Face Hub)', method: 'wanda', ratio: 0.5, dataset: 'mc4', language: 'de', seed: 0 };
    expect(publishedCandidates(run)).toEqual([]);
    const extra = parsePublishedModels('polyprune/gated=stories260k, other/x=x-1b');
    expect(extra).toEqual([
      { hubId: 'polyprune/gated', part: 'stories260k' },
      { hubId: 'other/x', part: 'x-1b' },
    ]);
    expect(publishedCandidates(run, extra)).toEqual(['multilingual-pruning/pruned-stories260k-wanda-0.5-unstructured-mc4-de-0', 'multilingual-pruning/pruned-pruned-stories260k-wanda-0.5-unstructured-mc4-de-0']);
    expect(publishedModelPart('hf:CohereForAI/aya-23-35B@main')).toBe('aya-23-35b');
    expect(publishedModelPart('meta-llama/meta-llama-3-70b-instruct')).toBe('llama3-70b-instruct');
    expect(() => parsePublishedModels('polyprune/gated')).toThrow(/'polyprune\/gated' is not a published model entry; write <org>\/<name>=<name part>/);
    expect(publishedCalibration(['hub:mc4:de@8c7cc26fc4af'])).toEqual({ dataset: 'mc4', language: 'de' });
    expect(publishedCalibration(['hub:mc4:de@8c7cc26fc4af+0'])).toEqual({ dataset: 'mc4', language: 'de' });
    expect(publishedCalibration(['de.txt'])).toBeNull();
    expect(publishedCalibration(['hub:mc4:de@a', 'hub:mc4:en@a'])).toBeNull();
  });
});

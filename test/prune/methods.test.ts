import { describe, it, expect } from 'vitest';
import { METHODS, MIX_METHODS, PRUNE_METHODS, isMixMethod, mixMethodsServedBy, mixStatisticsOwner, sharesMixStatistics, lookupMethod, methodsWhere, needsCalibration, resolveLayerProfile } from '../../src/prune/methods';
import { PRUNE_STEPS } from '../../src/prune/methods/steps';
import { llmCompressorRecipe } from '../../src/export/recipe';
import type { PruningRecord } from '../../src/export/hf';

describe('the method registry (src/prune/methods)', () => {
  it('holds one spec and one prune step per method, each under its own name', () => {
    for (const m of PRUNE_METHODS) {
      expect(METHODS[m].id).toBe(m);
      expect(typeof PRUNE_STEPS[m]).toBe('function');
      expect(METHODS[m].label.length).toBeGreaterThan(0);
      // a method either calibrates and collects a statistic, or neither
      expect(METHODS[m].statistic === 'none').toBe(!METHODS[m].calibrated);
      // a method without a mixer or an llm-compressor modifier says why
      if (!METHODS[m].mixer.supported) expect(METHODS[m].mixer).toHaveProperty('why', expect.stringMatching(/\w/));
      if (METHODS[m].llmCompressor.modifier === null) expect(METHODS[m].llmCompressor).toHaveProperty('why', expect.stringMatching(/\w/));
    }
    expect(Object.keys(METHODS).sort()).toEqual([...PRUNE_METHODS].sort());
  });

  it('answers the questions code used to ask of the names', () => {
    expect(methodsWhere((s) => !s.calibrated)).toEqual(['magnitude']);
    expect(MIX_METHODS).toEqual(['wanda', 'sparsegpt', 'gptq']);
    // SparseGPT's and GPTQ's collections are the same Hessians (one entry, either method); Wanda's are not
    expect(sharesMixStatistics('sparsegpt', 'gptq')).toBe(true);
    expect(sharesMixStatistics('wanda', 'gptq')).toBe(false);
    expect(mixStatisticsOwner('gptq')).toBe('sparsegpt');
    expect(mixMethodsServedBy('gptq')).toEqual(['gptq', 'sparsegpt']);
    expect(isMixMethod('wanda-lang')).toBe(false);
    expect(isMixMethod('nope')).toBe(false);
    expect(lookupMethod('nope')).toBeUndefined();
    expect(needsCalibration('magnitude')).toBe(false);
    expect(needsCalibration('sparsegpt')).toBe(true);
    expect(methodsWhere((s) => s.profiles.includes('owl'))).toEqual(['wanda', 'wanda-lang', 'sparsegpt', 'ria']);
    expect(methodsWhere((s) => s.solver !== null)).toEqual(['sparsegpt', 'gptq']);
    expect(methodsWhere((s) => !!s.quantizes)).toEqual(['gptq']);
    expect(methodsWhere((s) => !!s.jointQuantize)).toEqual(['sparsegpt']);
  });

  it('refuses a profile or weight a method does not take with the registry\'s lists', () => {
    expect(() => resolveLayerProfile({ method: 'magnitude', sparsity: 0.5, profile: 'owl' })).toThrow('The OWL profile needs calibration activations (its outlier ratios are Wanda scores); use it with wanda, wanda-lang, sparsegpt or ria, not magnitude.');
    expect(() => resolveLayerProfile({ method: 'wanda', sparsity: 0.5, langBeta: 1 })).toThrow('The language-aware weight beta only applies to the wanda-lang method.');
    expect(resolveLayerProfile({ method: 'wanda-lang', sparsity: 0.5 })).toEqual({ profile: 'uniform', langBeta: 1 });
  });

  it('the recipe writer refuses a method the registry does not know instead of writing it as Wanda', () => {
    const rec = { format: 'polyprune-pruning/1', tool: { name: 'polyprune', version: '0' }, model: { source: 'x' }, method: 'nope', structure: 'unstructured', sparsity_ratio: 0.5, nm: null, overall_sparsity: 0.5, calibration: null, per_matrix: [] } as unknown as PruningRecord;
    expect(() => llmCompressorRecipe(rec)).toThrow("No llm-compressor recipe for pruning method 'nope': PolyPrune knows wanda, wanda-lang, sparsegpt, ria, magnitude, gptq.");
    expect(llmCompressorRecipe({ ...rec, method: 'wanda-lang' })).toBeNull();
    expect(llmCompressorRecipe({ ...rec, method: 'ria' })).toBeNull(); // a registry entry without an llm-compressor modifier
  });
});

describe('the prune settings, parsed once (src/prune/methods/settings.ts)', () => {
  it('resolves a request into readonly settings with the defaults, and refuses with the validators\' one-line messages', async () => {
    const { parsePruneSettings, pruneSettingsSchema } = await import('../../src/prune/methods/settings');
    const s = parsePruneSettings({ method: 'wanda-lang', nm: { n: 2, m: 4 } });
    expect(s).toEqual({ method: 'wanda-lang', sparsity: 0.5, nm: { n: 2, m: 4 }, layers: { profile: 'uniform', langBeta: 1 } });
    expect(Object.isFrozen(s)).toBe(true);
    expect(parsePruneSettings({ method: 'sparsegpt', sparsity: 0.6, profile: 'owl', blocksize: 64 })).toMatchObject({ layers: { profile: 'owl', owl: { m: 5, lambda: 0.08 } }, blocksize: 64 });
    expect(() => parsePruneSettings({ method: 'nope', sparsity: 0.5 })).toThrow("Unknown pruning method 'nope'. Supported: wanda, wanda-lang, sparsegpt, ria, magnitude, gptq.");
    expect(() => parsePruneSettings({ method: 'wanda' })).toThrow(/there is no default/);
    expect(() => parsePruneSettings({ method: 'sparsegpt', nm: { n: 2, m: 4 }, blocksize: 6 })).toThrow('SparseGPT block size 6 must be a multiple of the N:M group size 4.');
    expect(pruneSettingsSchema.safeParse({ method: 'magnitude', sparsity: 0.5, profile: 'owl' }).error?.issues[0].message).toMatch(/^The OWL profile needs calibration activations/);
  });
});

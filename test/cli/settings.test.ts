/**
 * The CLI and the page parse the prune settings with the one schema (parsePruneSettings): the same
 * input gives the same one-line message in both (src/cli/pattern.ts settingsArgs,
 * src/ui/features/prune/settings.ts settingsProblem).
 */
import { describe, expect, it } from 'vitest';
import { settingsArgs } from '../../src/cli/pattern';
import { settingsProblem } from '../../src/ui/features/prune/settings';
import type { LayerProfileSetting, PruneMethod, SparsityPattern } from '../../src/ui/features/prune/pruneSlice';

const cliMessage = (o: Parameters<typeof settingsArgs>[0]): string | null => {
  try {
    settingsArgs(o);
    return null;
  } catch (e) {
    return (e as Error).message;
  }
};

describe('prune settings: one parse, one message in the CLI and the page', () => {
  const owl: LayerProfileSetting = { profile: 'owl', owlM: 5, owlLambda: 0.08 };
  const cases: [string, PruneMethod, SparsityPattern, LayerProfileSetting | undefined, RegExp][] = [
    ['sparsity out of range', 'wanda', { kind: 'unstructured', sparsity: 1.5 }, undefined, /strictly between 0 and 1/],
    ['N >= M', 'sparsegpt', { kind: 'nm', n: 4, m: 4 }, undefined, /smaller than M/],
    ['OWL with N:M', 'wanda', { kind: 'nm', n: 2, m: 4 }, owl, /N:M pattern \(2:4\) cannot express/],
    ['OWL without calibration', 'magnitude', { kind: 'unstructured', sparsity: 0.5 }, owl, /OWL profile needs calibration activations/],
    ['OWL lambda too large', 'wanda', { kind: 'unstructured', sparsity: 0.5 }, { ...owl, owlLambda: 0.3 }, /lambda 0.3 is too large/],
  ];
  for (const [what, method, pattern, profile, msg] of cases) {
    it(what, () => {
      const page = settingsProblem(method, pattern, profile);
      expect(page).toMatch(msg);
      const cli = cliMessage({
        method,
        ...(pattern.kind === 'nm' ? { nm: { n: pattern.n, m: pattern.m } } : { sparsity: pattern.sparsity }),
        ...(profile ? { profile: profile.profile, owlM: profile.owlM, owlLambda: profile.owlLambda } : {}),
      });
      expect(cli).toBe(page);
    });
  }
  it('good settings pass both, and the CLI sends only what was given', () => {
    expect(settingsProblem('wanda', { kind: 'unstructured', sparsity: 0.5 }, owl)).toBeNull();
    expect(settingsArgs({ method: 'wanda', sparsity: 0.5, profile: 'owl' }).fields).toEqual({ sparsity: 0.5, profile: 'owl' });
  });
  it("the CLI's own rule: exactly one of --sparsity and --nm", () => {
    expect(cliMessage({ method: 'wanda' })).toMatch(/exactly one of --sparsity <ratio> or --nm <N:M>/);
    expect(cliMessage({ method: 'nope', sparsity: 0.5 })).toMatch(/Unknown pruning method 'nope'/);
  });
});

import { describe, it, expect } from 'vitest';
import { PRUNE_METHODS, PRUNE_METHOD_INFO, methodSpec, parseNm, parsePruneMethod, parseSparsity, resolvePattern, assertNoDuplicates, type NM } from '../../src/prune/method';
import { planStudy } from '../../src/experiment/study';

const model = { source: 'x', name: 'x', sha256: '0'.repeat(64) };
const inputs = { sources: [{ label: 'a', texts: [{ name: 'a.txt', text: 'some text' }] }], columns: [{ language: 'en', text: { name: 'e.txt', text: 'held out' } }] };

const messageOf = async (f: () => unknown): Promise<string> => {
  try {
    await f();
  } catch (e) {
    expect((e as { code?: string }).code).toBe('BAD_ARGUMENT');
    return (e as Error).message;
  }
  throw new Error('expected an error');
};

describe('the pruning-method registry and its one validator', () => {
  it('lists every method once, with whether it needs calibration', () => {
    expect(PRUNE_METHOD_INFO.map((m) => m.id)).toEqual(PRUNE_METHODS.filter((m) => !methodSpec(m).quantizes)); // quantizers run in polyprune quantize, not the pruning menus
    expect(PRUNE_METHOD_INFO.filter((m) => !m.calibrated).map((m) => m.id)).toEqual(['magnitude']);
    expect(parsePruneMethod('sparsegpt')).toBe('sparsegpt');
  });

  it('parses sparsity and N:M text', () => {
    expect(parseSparsity('0.5')).toBe(0.5);
    expect(parseSparsity('50%')).toBe(0.5);
    expect(parseNm(' 2:4 ')).toEqual({ n: 2, m: 4 });
    expect(resolvePattern({ nm: { n: 2, m: 4 } })).toEqual({ sparsity: 0.5, nm: { n: 2, m: 4 } });
    expect(resolvePattern({ nm: { n: 2, m: 4 }, sparsity: 0.5 })).toEqual({ sparsity: 0.5, nm: { n: 2, m: 4 } });
    for (const bad of ['', 'abc', '0', '1', '-0.1', '150%', 'NaN']) expect(() => parseSparsity(bad), bad).toThrow(/strictly between 0 and 1/);
    expect(() => parseNm('2-4')).toThrow(/looks like 2:4/);
    expect(() => parseNm('4:4')).toThrow(/must be smaller than M/);
    expect(() => parseNm('1:64')).toThrow(/too large/);
  });

  it('duplicates are an error', () => {
    expect(() => assertNoDuplicates(['en', 'de', 'EN'], 'The languages')).toThrow(/The languages lists 'EN' twice/);
    expect(() => assertNoDuplicates(['en', 'de'], 'x')).not.toThrow();
  });

  // the same bad pattern gets the same answer from the engine's rule and the study
  const cases: [string, { sparsity?: number; nm?: NM }][] = [
    ['no pattern', {}],
    ['sparsity 1', { sparsity: 1 }],
    ['sparsity NaN', { sparsity: NaN }],
    ['N >= M', { nm: { n: 4, m: 4 } }],
    ['N:M contradicting sparsity', { nm: { n: 1, m: 4 }, sparsity: 0.5 }],
  ];
  for (const [what, p] of cases) {
    it(`one rule everywhere: ${what}`, async () => {
      const rule = await messageOf(() => resolvePattern(p));
      const study = await messageOf(() => planStudy(model, 'test', { method: 'wanda', ...p, nsamples: 1, seqlen: 8, evalSeqlen: 8 }, inputs));
      expect(study).toBe(rule);
    });
  }
});

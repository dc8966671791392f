import { describe, it, expect } from 'vitest';
import { PyRandom } from '../../src/calib/random';
import { sampleWindows } from '../../src/calib/sample';
import { fixtureMetrics } from '../helpers/fixture';

// Expected values printed by CPython 3.11's `random` module.
describe("PyRandom reproduces CPython's random module", () => {
  it('random() after seed(0)', () => {
    const r = new PyRandom(0);
    expect([r.random(), r.random(), r.random()]).toEqual([0.8444218515250481, 0.7579544029403025, 0.420571580830845]);
  });
  it('multi-word seeds, getrandbits over 32 bits, large randint', () => {
    const r = new PyRandom(12345678901234);
    expect([r.getrandbits(40), r.getrandbits(40), r.getrandbits(40)]).toEqual([614287875201, 906862273772, 581651090670]);
    expect(r.randint(0, 10 ** 12)).toBe(544250998403);
    const r2 = new PyRandom(2 ** 40 + 7);
    expect(Array.from({ length: 5 }, () => r2.randint(0, 99))).toEqual([78, 95, 81, 73, 90]);
  });
  it('negative seeds use |seed|; randint(0, 0) consumes bits like Python', () => {
    const r = new PyRandom(-5);
    expect(r.getrandbits(32)).toBe(2675342405);
    expect(r.randint(0, 1)).toBe(1);
    expect(r.randint(0, 0)).toBe(0);
  });
});

describe('sampleWindows = wanda get_wikitext2 sampler', () => {
  it('offsets of the fixture calibration (seed 0, 16 x 64) for the en and de stream lengths', () => {
    const m = fixtureMetrics().calibration;
    for (const lang of ['en', 'de']) {
      const c = m[lang];
      const stream = Int32Array.from({ length: c.stream_tokens }, (_, i) => i);
      const s = sampleWindows(stream, c.nsamples, c.seqlen, c.seed);
      expect(s.offsets).toEqual(c.offsets);
      for (let j = 0; j < c.nsamples; j++) expect(s.ids[j * c.seqlen]).toBe(c.offsets[j]);
      expect(s.ids[c.seqlen - 1]).toBe(c.offsets[0] + c.seqlen - 1);
    }
  });
  it('is deterministic and depends on the seed', () => {
    const stream = Int32Array.from({ length: 5000 }, (_, i) => (i * 7) % 311);
    const a = sampleWindows(stream, 8, 32, 3);
    const b = sampleWindows(stream, 8, 32, 3);
    const c = sampleWindows(stream, 8, 32, 4);
    expect(Array.from(a.ids)).toEqual(Array.from(b.ids));
    expect(a.offsets).not.toEqual(c.offsets);
    for (const o of a.offsets) expect(o).toBeLessThanOrEqual(5000 - 32 - 1);
  });
  it('refuses streams shorter than seqlen + 1 and bad sizes', () => {
    expect(() => sampleWindows(new Int32Array(64), 1, 64, 0)).toThrow(/at least 65 tokens.*has 64/);
    expect(() => sampleWindows(new Int32Array(100), 0, 8, 0)).toThrow(/samples/);
    expect(() => sampleWindows(new Int32Array(100), 1, 0, 0)).toThrow(/sequence length/);
  });
});

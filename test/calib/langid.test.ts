import { describe, it, expect } from 'vitest';
import { readFileSync } from 'node:fs';
import { identifyLanguage, identifyLanguageOfBytes } from '../../src/calib/langid';

const bundled = (l: string) => readFileSync(`public/models/polyprune-ml/calib/${l}.txt`, 'utf8');

describe('language identification (franc-min)', () => {
  it('names the language of every bundled calibration text with its ISO 639-1 code', () => {
    for (const l of ['ar', 'de', 'en', 'es', 'fr', 'it', 'ja', 'pt', 'ru', 'sw', 'zh']) {
      const g = identifyLanguage(bundled(l));
      expect(g?.language, l).toBe(l);
      expect(g!.confidence).toBeGreaterThan(0);
    }
  });
  it('says it cannot tell for short, numeric or empty text', () => {
    expect(identifyLanguage('')).toBeNull();
    expect(identifyLanguage('ok')).toBeNull();
    expect(identifyLanguage('1234 5678 90 -- ** 3.14159 2.71828 1.41421 !!')).toBeNull();
  });
  it('samples a large text instead of scanning all of it', () => {
    const big = bundled('de').repeat(200);
    expect(identifyLanguage(big)?.language).toBe('de');
    expect(identifyLanguageOfBytes(new TextEncoder().encode(big))?.language).toBe('de');
  });
});

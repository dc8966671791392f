/**
 * runStudy in the page against the worker client (SwiftShader WebGPU), on the stories260K fixture:
 * cells and layerDone events cross the worker boundary, masks are kept for maskOverlap, and the
 * numbers equal those of the in-thread engine in Node (lavapipe) within 1e-3 relative.
 * Needs the built app (dist/), /usr/bin/chromium and ../shared; fails (never skips) without them.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { StaticServer } from '../helpers/httpServer';
import { FIXTURE, SHARED, requireShared } from '../helpers/fixture';
import type { Browser } from './chromium';
import { useEnginePage } from './standIn';
import { fixtureEngine } from '../helpers/engine';
import { runStudy, type StudyInputs, type StudySpec } from '../../src/experiment/study';
import { parseResultRecord, type ExperimentRecord } from '../../src/experiment/records';

let server: StaticServer;
let browser: Browser;

const book = (loc: string) => readFileSync(requireShared(path.join(SHARED, `data/text/debian-handbook/${loc}.txt`)), 'utf8').split('\n');
const en = book('en-US');
const de = book('de-DE');
const inputs: StudyInputs = {
  sources: [
    { label: 'en.txt', texts: [{ name: 'en.txt', text: en.slice(0, 300).join('\n'), language: 'en' }] },
    { label: 'de.txt', texts: [{ name: 'de.txt', text: de.slice(0, 300).join('\n'), language: 'de' }] },
  ],
  columns: [{ language: 'en', text: { name: 'en-eval.txt', text: en.slice(2371, 2500).join('\n\n') } }],
};
const spec: StudySpec = { method: 'wanda', sparsity: 0.5, nsamples: 2, seqlen: 32, seeds: [0], evalSeqlen: 32, evalMaxWindows: 2 };

useEnginePage({ '/fixtures/stories260K/': requireShared(FIXTURE) }, '?test=1&autoload=0', (s) => void ({ server, browser } = s));

describe('runStudy in Chromium through the worker client', () => {
  it('reports cells and layers as they finish and matches the in-thread engine', async () => {
    const { record, kinds } = await browser.page.evaluate(
      async ({ url, spec, inputs }) => {
        const engine = window.polyprune!.engine;
        const { runStudy } = await window.polyprune!.study!();
        const m = await engine.loadModel({ kind: 'url', url, name: 'stories260K' });
        const kinds: string[] = [];
        const record = await runStudy(engine, m.id, spec, inputs, { onEvent: (e) => kinds.push(e.kind) });
        const left = (await engine.listModels()).length;
        await engine.unloadModel(m.id);
        return { record, kinds: [...kinds, `models:${left}`] };
      },
      { url: `${server.url}/fixtures/stories260K/`, spec, inputs },
    );
    const rec = parseResultRecord(record) as ExperimentRecord;
    expect(rec.complete, rec.note).toBe(true);
    expect(kinds.filter((k) => k === 'cell')).toHaveLength(3);
    expect(kinds.filter((k) => k === 'layerDone')).toHaveLength(10);
    expect(kinds).toContain('maskOverlap');
    expect(kinds.at(-1)).toBe('models:1');

    const { engine, base: m } = await fixtureEngine();
    try {
      const node = await runStudy(engine, m.id, spec, inputs);
      expect(rec.model.sha256, 'the same model has the same identity by URL and by folder').toBe(node.model.sha256);
      for (let r = 0; r < 3; r++) {
        const a = rec.cells[r][0].ppl[0]!;
        const b = node.cells[r][0].ppl[0]!;
        expect(Math.abs(a - b) / b, `row ${r}: browser ${a}, node ${b}`).toBeLessThanOrEqual(1e-3);
      }
      for (let r = 1; r < 3; r++) expect(rec.rows[r].sparsity[0]).toBeCloseTo(node.rows[r].sparsity[0]!, 4);
      const iouA = rec.iou[0].v.flat() as number[];
      const iouB = node.iou[0].v.flat() as number[];
      iouA.forEach((x, i) => expect(Math.abs(x - iouB[i])).toBeLessThan(0.02));
      const ra = rec.rows[1].recon[0]!.flat() as number[];
      const rb = node.rows[1].recon[0]!.flat() as number[];
      ra.forEach((x, i) => expect(Math.abs(x - rb[i]) / rb[i]).toBeLessThan(0.05));
    } finally {
      await engine.dispose();
    }
  }, 600_000);
});

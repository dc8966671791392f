/**
 * Pruning end to end in headless Chromium (SwiftShader WebGPU) through the built app's worker engine:
 * Wanda 50 % with the fixture's calibration windows must reproduce the reference perplexity, and the
 * exported model.safetensors must carry the reference masks.
 */
import { describe, expect, it } from 'vitest';
import type { StaticServer } from '../helpers/httpServer';
import { FIXTURE, requireShared, fixtureMetrics, fixtureTensors, fixtureWindows } from '../helpers/fixture';
import { openSafetensors } from '../../src/io/safetensors';
import { blobSource } from '../../src/io/source';
import type { Browser } from './chromium';
import { useEnginePage } from './standIn';

let server: StaticServer;
let browser: Browser;

useEnginePage({ '/fixtures/stories260K/': requireShared(FIXTURE) }, '?test=1&autoload=0', (s) => void ({ server, browser } = s));

describe('pruning in Chromium', () => {
  it('wanda 50% with calib-en windows matches the reference perplexity and masks', async () => {
    const calib = await fixtureWindows('calib-en.safetensors');
    const ev = await fixtureWindows('eval-en.safetensors');
    const out = await browser.page.evaluate(
      async ({ url, calibIds, evalIds }) => {
        const engine = window.polyprune!.engine;
        const base = await engine.loadModel({ kind: 'url', url });
        const res = await engine.prune(base.id, { method: 'wanda', sparsity: 0.5, calibration: { windows: { ids: new Int32Array(calibIds), n: 16, seqlen: 64 } } });
        const ppl = await engine.perplexity(res.model.id, { windows: { ids: new Int32Array(evalIds), n: 4, seqlen: 64 }, seqlen: 64 });
        const files = await engine.exportModel(res.model.id);
        const st = files.find((f) => f.name === 'model.safetensors')!;
        return { ppl: ppl.ppl, overall: res.report.overall, names: files.map((f) => f.name), safetensors: Array.from(st.data) };
      },
      { url: `${server.url}/fixtures/stories260K/`, calibIds: Array.from(calib.ids), evalIds: Array.from(ev.ids) },
    );
    const want = fixtureMetrics().variants['wanda-unstructured-0.5-en'].eval['eval-en'].ppl;
    expect(Math.abs(out.ppl - want) / want, `ppl ${out.ppl} vs ${want}`).toBeLessThan(0.01);
    expect(out.overall).toBeCloseTo(0.5, 9);
    expect(out.names).toEqual(expect.arrayContaining(['config.json', 'model.safetensors', 'tokenizer.json', 'pruning.json']));
    const got = await openSafetensors(blobSource(new Blob([new Uint8Array(out.safetensors)]), 'exported model.safetensors'));
    const ref = await fixtureTensors('wanda-unstructured-0.5-en.safetensors');
    let flips = 0;
    let total = 0;
    for (const name of [...ref.tensors.keys()].filter((n) => !n.startsWith('mask.'))) {
      const a = await got.readF32(name);
      const b = await ref.readF32(name);
      for (let i = 0; i < a.length; i++) if ((a[i] === 0) !== (b[i] === 0)) flips++;
      total += a.length;
    }
    expect(total).toBe(226560);
    expect(flips / total).toBeLessThanOrEqual(0.001);
  });
});

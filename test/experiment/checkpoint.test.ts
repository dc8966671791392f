/**
 * Resume: an experiment stopped in the middle continues from the checkpoint rebuilt from its events
 * and ends with the same record as an uninterrupted run (fixture model on lavapipe).
 */
import { describe, it, expect } from 'vitest';
import { LocalEngine } from '../../src/engine/engine';
import { nodeGpu } from '../../src/gpu/node';
import { startStaticServer } from '../helpers/httpServer';
import { StudyCheckpoint } from '../../src/experiment/checkpoint';
import { planStudy, runStudy, type StudyInputs, type StudySpec } from '../../src/experiment/study';
import { engineRowSizer } from '../../src/experiment/size';
import type { ExperimentRecord } from '../../src/experiment/records';
import { FIXTURE, requireShared } from '../helpers/fixture';

const EN = 'Once upon a time, there was a little girl named Lily. She loved to play outside in the park with her friends. One day she found a big red ball. ';
const DE = 'Es war einmal ein kleines Mädchen namens Lily. Sie spielte gern mit ihren Freunden im Park. Eines Tages fand sie einen großen roten Ball. ';

const inputs: StudyInputs = {
  sources: [
    { label: 'en', texts: [{ name: 'calib/en.txt', text: EN.repeat(6), language: 'en' }] },
    { label: 'de', texts: [{ name: 'calib/de.txt', text: DE.repeat(6), language: 'de' }] },
  ],
  columns: [
    { language: 'en', text: { name: 'eval/en.txt', text: EN.repeat(3) } },
    { language: 'de', text: { name: 'eval/de.txt', text: DE.repeat(3) } },
  ],
};
const spec: StudySpec = { method: 'wanda', sparsity: 0.5, nsamples: 4, seqlen: 32, seeds: [0, 1], evalSeqlen: 32, evalMaxWindows: 2 };

describe('resume an interrupted experiment', () => {
  it('rebuilds the record from events and finishes a stopped run with the same numbers', async () => {
    const engine = new LocalEngine({ gpu: nodeGpu, politeWait: true });
    // Served over HTTP, as the page loads it.
    const server = await startStaticServer({ '/m/': requireShared(FIXTURE) });
    try {
      const m = await engine.loadModel({ kind: 'url', url: `${server.url}/m/` });
      const s = (await engine.listModels())[0];
      const model = { source: s.source, name: s.name, sha256: s.sha256, modelType: s.modelType, parameters: s.parameters, layers: s.numLayers };
      const adapter = (await engine.gpuInfo()).description;

      // Uninterrupted, with a checkpoint fed from its events: the checkpoint equals the result.
      const full = new StudyCheckpoint(await planStudy(model, adapter, spec, inputs, engineRowSizer(engine, m.id)));
      const whole = await runStudy(engine, m.id, spec, inputs, { onEvent: (e) => full.apply(e) });
      expect(whole.complete).toBe(true);
      expect(full.record.cells).toEqual(whole.cells);
      expect(full.record.rows).toEqual(whole.rows);
      expect(full.record.iou).toEqual(whole.iou);
      expect(full.measured()).toEqual({ done: 10, total: 10 });

      // Stopped after the third measured cell (the first pruned row is half measured).
      const stop = new AbortController();
      const cp = new StudyCheckpoint(await planStudy(model, adapter, spec, inputs, engineRowSizer(engine, m.id)));
      let cells = 0;
      const partial = await runStudy(engine, m.id, spec, inputs, {
        signal: stop.signal,
        onEvent: (e) => {
          cp.apply(e);
          if (e.kind === 'cell' && ++cells === 3) stop.abort();
        },
      });
      expect(partial.complete).toBe(false);
      expect(cp.measured().done).toBe(3);
      // What a reload finds in storage: the checkpoint, through JSON.
      const stored = JSON.parse(JSON.stringify(cp.record)) as ExperimentRecord;
      const steps: number[] = [];
      const resumed = await runStudy(engine, m.id, spec, inputs, { resume: stored, onEvent: (e) => e.kind === 'step' && steps.push(e.total) });
      expect(resumed.complete).toBe(true);
      // Only the 7 missing cells and the 3 prunes (row en again: half measured) ran, plus the overlaps.
      expect(steps[0]).toBe(7 + 3 + 2); // 7 missing cells, 3 prunes (row en again: half measured), 1 mask overlap per seed
      expect(resumed.cells).toEqual(whole.cells);
      expect(resumed.rows.map((r) => r.sparsity)).toEqual(whole.rows.map((r) => r.sparsity));
      expect(resumed.rows.map((r) => r.recon)).toEqual(whole.rows.map((r) => r.recon));
      expect((await engine.listModels()).map((x) => x.id)).toEqual([m.id]);
    } finally {
      await engine.dispose();
      await server.close();
    }
  });
});

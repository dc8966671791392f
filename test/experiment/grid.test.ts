import { describe, it, expect } from 'vitest';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { LocalEngine } from '../../src/engine/engine';
import { nodeGpu } from '../../src/gpu/node';
import { dirFolder } from '../../src/io/node';
import { runGrid, gridMarkdown, ownLanguageWins } from '../../src/experiment/grid';
import { FIXTURE, SHARED, requireShared } from '../helpers/fixture';

describe('calibration x evaluation language grid', () => {
  it('prunes once per calibration language and measures every evaluation language', async () => {
    const book = (loc: string) => readFileSync(requireShared(path.join(SHARED, `data/text/debian-handbook/${loc}.txt`)), 'utf8').split('\n');
    const en = book('en-US');
    const de = book('de-DE');
    const texts = {
      calib: async (l: string) => (l === 'en' ? en.slice(0, 600) : de.slice(0, 600)).join('\n'),
      eval: async (l: string) => (l === 'en' ? en.slice(2371, 2600) : de.slice(1800, 2100)).join('\n\n'),
    };
    const engine = new LocalEngine({ gpu: nodeGpu, politeWait: true });
    try {
      const m = await engine.loadModel({ kind: 'folder', folder: dirFolder(requireShared(FIXTURE)) });
      const spec = { method: 'wanda' as const, sparsity: 0.5, calibLanguages: ['en', 'de'], evalLanguages: ['en', 'de'], nsamples: 8, seqlen: 64, evalSeqlen: 64, evalMaxWindows: 4 };
      const g = await runGrid(engine, m.id, spec, texts);
      const direct = await engine.perplexity(m.id, { text: await texts.eval('en'), seqlen: 64, maxWindows: 4 });
      expect(g.dense.en.ppl).toBe(direct.ppl);
      for (const c of ['en', 'de']) {
        expect(g.sparsity[c]).toBeCloseTo(0.5, 9);
        for (const l of ['en', 'de']) expect(g.rows[c][l].ppl).toBeGreaterThan(g.dense[l].ppl * 0.5);
      }
      // Different calibration languages give different pruned models.
      expect(g.rows.en.en.ppl).not.toBe(g.rows.de.en.ppl);
      expect(gridMarkdown(g).split('\n')).toHaveLength(5);
      expect(ownLanguageWins(g)).toHaveLength(2);
      // Pruned copies are unloaded; only the base model remains.
      expect((await engine.listModels()).map((s) => s.id)).toEqual([m.id]);
      await expect(runGrid(engine, m.id, { ...spec, calibLanguages: [] }, texts)).rejects.toMatchObject({ code: 'BAD_ARGUMENT' });
      await expect(runGrid(engine, m.id, spec, { ...texts, eval: async () => ' ' })).rejects.toThrow(/evaluation text for 'en' is empty/);
    } finally {
      await engine.dispose();
    }
  });
});

/**
 * The page's export action (src/ui/features/export/actions.ts) against a real engine on the
 * stories260K fixture: the mixer's model reads its pruned matrices back only when it is exported,
 * and where the spill file cannot be made (a missing folder here; OPFS out of quota in a browser)
 * they stay in memory with a warning on the model. The action must show that warning and put it on
 * the page's summary of the model, not leave it in the engine. Only the browser download is replaced.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { nodeSpill } from '../../src/io/node';
import { connectEngine } from '../../src/ui/store/actions/core';
import { exportActiveModel } from '../../src/ui/features/export/actions';
import { useAppStore } from '../../src/ui/store/index';
import { fixtureEngine } from '../helpers/engine';
import { fixtureWindows } from '../helpers/fixture';

const saved: { name: string; bytes: number }[] = [];
vi.mock('../../src/ui/download', async (importOriginal) => ({
  ...(await importOriginal<typeof import('../../src/ui/download')>()),
  saveBlob: (blob: Blob, name: string) => saved.push({ name, bytes: blob.size }),
}));

const dir = mkdtempSync(path.join(tmpdir(), 'polyprune-export-warn-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('export from the page', () => {
  it("shows the warning the mixer's model gains when its matrices cannot be spilled, and keeps it on the model", async () => {
    const { engine, base } = await fixtureEngine({ spill: nodeSpill(path.join(dir, 'missing', 'folder')), spillPrunedAboveBytes: 0 });
    try {
      const calib = await fixtureWindows('calib-en.safetensors');
      const windows = { ids: calib.ids.slice(0, 4 * calib.seqlen), n: 4, seqlen: calib.seqlen };
      const stats = await engine.collectStats(base.id, { method: 'wanda', sources: [{ name: 'en', windows }], nsamples: 4, seqlen: calib.seqlen });
      const mixed = await engine.mixPrune(stats.id, { weights: [1], sparsity: 0.5 });
      expect(mixed.model.warnings ?? []).toEqual([]);
      connectEngine(engine);
      const s = useAppStore.getState();
      s.addModel(base);
      s.addModel(mixed.model);

      await exportActiveModel('hf', 'zip');

      expect(saved).toHaveLength(1);
      expect(saved[0].bytes).toBeGreaterThan(0);
      const texts = useAppStore.getState().messages.map((m) => `${m.level}: ${m.text}`);
      expect(texts[0]).toMatch(/^info: Saved .*\.zip/);
      expect(texts.slice(1)).toEqual([expect.stringMatching(/^info: Warning: Could not create a spill file in the temporary folder .*missing.folder .*; the pruned matrices \([\d.]+ KiB\) are kept in memory\.$/)]);
      const shown = useAppStore.getState().models.find((m) => m.id === mixed.model.id)!;
      expect(shown.warnings).toEqual([texts[1].replace(/^info: Warning: /, '')]);
      // the summary is replaced in place: the active model and the order stay
      expect(useAppStore.getState().models.map((m) => m.id)).toEqual([base.id, mixed.model.id]);
      expect(useAppStore.getState().activeModelId).toBe(mixed.model.id);

      // a second export repeats no warning
      await exportActiveModel('hf', 'zip');
      expect(useAppStore.getState().messages.map((m) => m.text).filter((t) => t.startsWith('Warning:'))).toEqual([]);
    } finally {
      await engine.dispose();
    }
  });
});

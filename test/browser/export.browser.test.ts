/**
 * The page's export panel on the built app (dist/) in headless Chromium: prune the stories260K
 * stand-in of the bundled model (magnitude), export it as ONNX through "Download zip" (streamed
 * zip in the worker), and check the archive: transformers.js layout, pruning.json, and the
 * pruning provenance shown in the model summary after loading the HF zip's files back. The server
 * gzips every answer, ranged ones too (as `vite preview` did): the model loads and exports all the
 * same, its files read whole (issue 18). The spill file in OPFS (?spillPrunedAbove=0), and an origin
 * out of storage quota (set through the DevTools protocol), where the matrices stay in memory and the
 * page says so.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { unzipSync } from 'fflate';
import { describe, expect, it } from 'vitest';
import type { Browser } from './chromium';
import { EVAL_TEXT, type StandInApp, useStandInApp } from './standIn';
import { openView } from './views';

const SCREENSHOT_DIR = process.env.POLYPRUNE_SCREENSHOTS ?? '/tmp';

let work: StandInApp;
let browser: Browser;

useStandInApp('polyprune-export-ui-', { waitForModel: true, server: { gzipAll: true } }, (s) => void ({ work, browser } = s));

const log = (): string => browser.log.join('\n');

async function download(format: 'hf' | 'onnx'): Promise<Record<string, Uint8Array>> {
  const panel = browser.page.locator('.prune-panel');
  await panel.getByLabel('Export format').selectOption(format);
  const [dl] = await Promise.all([browser.page.waitForEvent('download', { timeout: 120_000 }), panel.getByRole('button', { name: 'Download zip' }).click()]);
  const file = path.join(work.dir, `${format}.zip`);
  await dl.saveAs(file);
  return unzipSync(new Uint8Array(await readFile(file)));
}

describe('export panel', () => {
  it('downloads the pruned model as ONNX and as HF; the HF zip loaded back shows its pruning provenance', async () => {
    const { page } = browser;
    await openView(page, 'Perplexity & prune');
    const panel = page.locator('.prune-panel');
    await panel.getByLabel('Method', { exact: true }).selectOption('magnitude');
    await panel.getByRole('button', { name: 'Prune', exact: true }).click();
    await panel.getByLabel('Pruning report').waitFor({ timeout: 120_000 });

    const onnxZip = await download('onnx');
    expect(Object.keys(onnxZip).sort()).toEqual(expect.arrayContaining(['config.json', 'generation_config.json', 'onnx/model.onnx', 'onnx/model_fp16.onnx', 'pruning.json', 'tokenizer.json']));
    const cfg = JSON.parse(new TextDecoder().decode(onnxZip['config.json']));
    expect(cfg['transformers.js_config']).toEqual({ dtype: 'fp32' });
    expect(JSON.parse(new TextDecoder().decode(onnxZip['pruning.json'])).method).toBe('magnitude');
    await expect.poll(() => panel.locator('.message-info').last().textContent()).toMatch(/Saved .*-onnx\.zip/);

    const hfZip = await download('hf');
    expect(Object.keys(hfZip)).toEqual(expect.arrayContaining(['config.json', 'model.safetensors', 'pruning.json']));
    // Load the unzipped HF export back as dropped files: the summary shows it is a pruned model.
    const dir = path.join(work.dir, 'hf-files');
    mkdirSync(dir);
    for (const [n, d] of Object.entries(hfZip)) writeFileSync(path.join(dir, n), d);
    const files = Object.keys(hfZip).map((n) => path.join(dir, n));
    await openView(page, 'Experiment');
    const input = page.locator('.drop-zone input[type="file"][multiple]');
    // The model pruned here shows its provenance too: wait for the loaded export to join the list (it becomes active).
    const loaded = page.locator('input[name="active-model"]');
    const before = await loaded.count();
    await input.setInputFiles(files);
    await expect.poll(() => loaded.count(), { timeout: 60_000 }).toBe(before + 1);
    expect(await loaded.last().isChecked()).toBe(true);
    const prov = page.getByLabel('Pruning provenance');
    expect(await prov.first().textContent()).toContain('magnitude, unstructured');
    await page.locator('.model-summary').screenshot({ path: path.join(SCREENSHOT_DIR, 'polyprune-ui-provenance.png') });
    await openView(page, 'Perplexity & prune');
    // Each format's bytes beside it (Engine.exportSizes); hf-gptq is disabled for a model GPTQ did not quantize.
    const select = panel.getByLabel('Export format');
    // The sizes arrive from the engine after each change of the active model: wait for the refusal too.
    await expect.poll(() => select.locator('option[value="hf-gptq"]').isDisabled(), { timeout: 30_000 }).toBe(true);
    expect(await select.locator('option[value="hf"]').textContent()).toMatch(/\(\d[\d.]* [KMG]?i?B\)/);
    expect(await select.locator('option[value="onnx"]').textContent()).toMatch(/\(\d[\d.]* [KMG]?i?B\)/);
    expect(await select.locator('option[value="hf-gptq"]').getAttribute('title')).toMatch(/GPTQ/);
    await panel.screenshot({ path: path.join(SCREENSHOT_DIR, 'polyprune-ui-export.png') });
    expect(await page.getByRole('alert').count(), log()).toBe(0);
  });

  it('exports into a folder handle through the worker (File System Access sink, on the origin private file system); an existing folder is refused', async () => {
    const out = (await browser.page.evaluate(`(async () => {
      const engine = window.polyprune.engine;
      const m = (await engine.listModels()).find((x) => x.prunedFrom);
      const root = await navigator.storage.getDirectory();
      const r = await engine.exportToDirectory(m.id, root, 'opfs-export', { format: 'onnx', onnxVariants: ['fp32'] });
      const names = [];
      for await (const k of root.keys()) names.push(k);
      const dir = await root.getDirectoryHandle('opfs-export');
      const files = [];
      for await (const k of dir.keys()) files.push(k);
      const onnx = await (await (await dir.getDirectoryHandle('onnx')).getFileHandle('model.onnx')).getFile();
      const rec = JSON.parse(await (await (await dir.getFileHandle('pruning.json')).getFile()).text());
      let again = null;
      try { await engine.exportToDirectory(m.id, root, 'opfs-export', { format: 'hf' }); } catch (e) { again = { code: e.code, message: e.message }; }
      return { files: r.files, names, listed: files.sort(), onnxBytes: onnx.size, method: rec.method, again };
    })()`)) as { files: string[]; names: string[]; listed: string[]; onnxBytes: number; method: string; again: { code: string; message: string } | null };
    expect(out.files).toContain('onnx/model.onnx');
    expect(out.listed).toEqual(expect.arrayContaining(['config.json', 'onnx', 'pruning.json']));
    expect(out.names.filter((n) => n.includes('partial'))).toEqual([]);
    expect(out.onnxBytes).toBeGreaterThan(100_000);
    expect(out.method).toBe('magnitude');
    expect(out.again?.code).toBe('OUTPUT_EXISTS');
  });

  it('?spillPrunedAbove=0: the pruned matrices live in an OPFS file, not the heap; the same zip and perplexity; the file goes with the model', async () => {
    // The prune and export of one page, run in the page (`spill`: whether its engine spills).
    const run = (p: import('playwright-core').Page) =>
      p.evaluate(async (text) => {
        const engine = window.polyprune!.engine;
        const base = (await engine.listModels()).find((m) => !m.prunedFrom && !m.pruning && m.source.includes('/models/polyprune-ml'))!;
        const r = await engine.prune(base.id, { method: 'magnitude', sparsity: 0.5 });
        const root = await navigator.storage.getDirectory();
        const list = async () => {
          const out: { name: string; size: number | string }[] = [];
          const d = await root.getDirectoryHandle('polyprune-pruned').catch(() => null);
          for await (const [name, h] of (d as unknown as { entries(): AsyncIterable<[string, FileSystemFileHandle]> } | null)?.entries() ?? []) {
            out.push({ name, size: await h.getFile().then((f) => f.size, (e: Error) => e.name) });
          }
          return out;
        };
        const during = await list();
        const ppl = (await engine.perplexity(r.model.id, { text, seqlen: 32, maxWindows: 2 })).ppl;
        const zip = await engine.exportZip(r.model.id, { format: 'hf' });
        const zipBytes = [...new Uint8Array(await zip.arrayBuffer())];
        await engine.unloadModel(r.model.id);
        return { zipBytes, ppl, during, after: await list(), warnings: r.model.warnings ?? [], prunedBytes: r.report.perMatrix.reduce((a, m) => a + m.numel * 4, 0) };
      }, EVAL_TEXT.en);
    const inMemory = await run(browser.page);
    expect(inMemory.during).toEqual([]);
    const page = await browser.context.newPage();
    try {
      await page.goto(`${work.server.url}/?test=1&spillPrunedAbove=0`);
      await page.getByLabel('Model architecture').waitFor({ timeout: 60_000 });
      // the Prune panel's plan says where the pruned matrices go
      await openView(page, 'Perplexity & prune');
      const planLine = page.locator('.prune-panel').getByLabel('Prune plan');
      await expect.poll(() => planLine.textContent(), { timeout: 60_000 }).toMatch(/ and [\d.]+ KiB on disk \(the pruned matrices, spilled: not in memory\) to export\.$/);
      await page.locator('.prune-panel').screenshot({ path: path.join(SCREENSHOT_DIR, 'polyprune-ui-spill-plan.png') });
      const spilled = await run(page);
      expect(spilled.warnings).toEqual([]);
      // one OPFS file while the pruned model is loaded, holding exactly its pruned matrices (f32 here)
      expect(spilled.during).toEqual([{ name: expect.stringMatching(/^pruned-.*\.bin$/), size: spilled.prunedBytes }]);
      expect(spilled.after).toEqual([]);
      expect(spilled.ppl).toBe(inMemory.ppl);
      // the zips' files byte for byte (the archives themselves differ in their entries' times)
      const za = unzipSync(new Uint8Array(inMemory.zipBytes));
      const zb = unzipSync(new Uint8Array(spilled.zipBytes));
      expect(Object.keys(zb).sort()).toEqual(Object.keys(za).sort());
      expect(Object.keys(za)).toContain('model.safetensors');
      for (const k of Object.keys(za)) expect(Buffer.from(zb[k]).equals(Buffer.from(za[k])), k).toBe(true);
      expect(await page.getByRole('alert').count(), log()).toBe(0);
    } finally {
      await page.close();
    }
  });

  it('an origin out of storage quota: the pruned matrices stay in memory and the page says so on the model; the export still works', async () => {
    const page = await browser.context.newPage();
    // The origin's quota set to 1 KiB (DevTools protocol), as a full disk or a tight quota would leave it.
    const cdp = await browser.context.newCDPSession(page);
    const origin = new URL(work.server.url).origin;
    await cdp.send('Storage.overrideQuotaForOrigin', { origin, quotaSize: 1024 });
    try {
      await page.goto(`${work.server.url}/?test=1&spillPrunedAbove=0`);
      await page.getByLabel('Model architecture').waitFor({ timeout: 60_000 });
      await openView(page, 'Perplexity & prune');
      const panel = page.locator('.prune-panel');
      await panel.getByLabel('Method', { exact: true }).selectOption('magnitude');
      await panel.getByRole('button', { name: 'Prune', exact: true }).click();
      await panel.getByLabel('Pruning report').waitFor({ timeout: 120_000 });
      // the engine could not write the spill file (OPFS counts against the quota) and kept the matrices in memory
      await expect.poll(() => panel.getByText(/^Warning: Could not create a spill file/).textContent(), { timeout: 30_000 }).toMatch(/^Warning: Could not create a spill file in the browser's private file system \(OPFS\) \(Cannot create polyprune-pruned\/pruned-\S+\.bin: the browser's storage quota for this site is used up\); the pruned matrices \([\d.]+ KiB\) are kept in memory\.$/);
      const root = await page.evaluate(async () => (await navigator.storage.getDirectory().then((d) => d.getDirectoryHandle('polyprune-pruned')).then(async (d) => { const n: string[] = []; for await (const [k] of (d as unknown as { entries(): AsyncIterable<[string]> }).entries()) n.push(k); return n; }, () => [])));
      expect(root).toEqual([]);
      await page.screenshot({ path: path.join(SCREENSHOT_DIR, 'polyprune-ui-spill-quota.png'), fullPage: true });
      const [dl] = await Promise.all([page.waitForEvent('download', { timeout: 120_000 }), panel.getByRole('button', { name: 'Download zip' }).click()]);
      const file = path.join(work.dir, 'quota.zip');
      await dl.saveAs(file);
      expect(Object.keys(unzipSync(new Uint8Array(await readFile(file))))).toContain('model.safetensors');
      // the model's warning was known before the export: the export does not repeat it
      await expect.poll(() => panel.getByText(/^Saved .*\.zip/).count()).toBe(1);
      expect(await panel.getByText(/^Warning: /).count()).toBe(0);
      expect(await page.getByRole('alert').count(), log()).toBe(0);
    } finally {
      await cdp.send('Storage.overrideQuotaForOrigin', { origin }).catch(() => undefined);
      await page.close();
    }
  });
});

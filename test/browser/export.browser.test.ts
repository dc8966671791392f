/**
 * The page's export panel on the built app (dist/) in headless Chromium: prune the stories260K
 * stand-in of the bundled model (magnitude), export it as ONNX through "Download zip" (streamed
 * zip in the worker), and check the archive: transformers.js layout, pruning.json, and the
 * pruning provenance shown in the model summary after loading the HF zip's files back. The server
 * gzips every answer, ranged ones too (as `vite preview` did): the model loads and exports all the
 * same, its files read whole (issue 18).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { unzipSync } from 'fflate';
import { describe, expect, it } from 'vitest';
import type { Browser } from './chromium';
import { type StandInApp, useStandInApp } from './standIn';
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
    await input.setInputFiles(files);
    const prov = page.getByLabel('Pruning provenance');
    await expect.poll(() => prov.count(), { timeout: 60_000 }).toBeGreaterThan(0);
    expect(await prov.first().textContent()).toContain('magnitude, unstructured');
    await page.locator('.model-summary').screenshot({ path: path.join(SCREENSHOT_DIR, 'polyprune-ui-provenance.png') });
    await openView(page, 'Perplexity & prune');
    // Each format's bytes beside it (Engine.exportSizes); hf-gptq is disabled for a model GPTQ did not quantize.
    const select = panel.getByLabel('Export format');
    await expect.poll(() => select.locator('option[value="hf"]').textContent(), { timeout: 30_000 }).toMatch(/\(\d[\d.]* [KMG]?i?B\)/);
    expect(await select.locator('option[value="onnx"]').textContent()).toMatch(/\(\d[\d.]* [KMG]?i?B\)/);
    expect(await select.locator('option[value="hf-gptq"]').isDisabled()).toBe(true);
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
});

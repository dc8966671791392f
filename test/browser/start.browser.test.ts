/**
 * The README's first command, exactly: `npm start` (vite build + vite preview on 127.0.0.1:4173),
 * then the first load in Chromium as a new user sees it: the bundled model loads by itself, with no
 * error. `vite preview` answers a missing file with index.html (200, text/html), so this is the test
 * that catches an HTML page taken for a model file. Then both exports (HF and ONNX zip) of the
 * loaded model through that same server: `vite preview` gzips text answers, and a compressed
 * tokenizer.json in the browser's cache once broke the export's byte-range reads (issue 18).
 * Needs port 4173 free.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { unzipSync } from 'fflate';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium, type Browser } from './chromium';
import { modelLoaded, openView } from './views';

const URL = 'http://127.0.0.1:4173/';
let server: ChildProcess | undefined;
let output = '';
let browser: Browser;

beforeAll(async () => {
  server = spawn('npm', ['start'], { cwd: process.cwd(), detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  const append = (b: Buffer): void => {
    output += b.toString();
  };
  server.stdout!.on('data', append);
  server.stderr!.on('data', append);
  // Wait for the server by asking it, not by reading its output: vite colours the URL it prints
  // (escape codes inside "127.0.0.1:4173" when colour is forced, as on CI).
  const deadline = Date.now() + 300_000;
  let exited: number | null | undefined;
  server.on('exit', (code) => {
    exited = code;
  });
  for (;;) {
    if (exited !== undefined) throw new Error(`npm start exited with code ${exited}:\n${output}`);
    if (Date.now() > deadline) throw new Error(`npm start did not serve ${URL} within 5 minutes:\n${output}`);
    const ok = await fetch(URL).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) break;
    await new Promise((r) => setTimeout(r, 500));
  }
  browser = await launchChromium({ webgpu: true });
}, 320_000);

afterAll(async () => {
  await browser?.close();
  // npm start runs vite under npm: end the whole process group it leads.
  if (server?.pid && server.exitCode === null) process.kill(-server.pid, 'SIGTERM');
});

describe('npm start (README)', () => {
  it('serves the app and the bundled model loads by itself on first open', async () => {
    const { page } = browser;
    await page.goto(URL);
    const model = page.locator('section.model-panel');
    const state = async (): Promise<string> => ((await model.getByLabel('Model architecture').count()) ? 'loaded' : ((await model.getByRole('alert').allTextContents()).join(' ') || 'waiting'));
    // Ends at the first error message instead of waiting for the timeout.
    await expect.poll(state, { timeout: 180_000, interval: 500 }).not.toBe('waiting');
    expect(await state()).toBe('loaded');
    expect(await page.getByRole('alert').allTextContents(), browser.log.join('\n')).toEqual([]);
    expect(await page.getByRole('button', { name: 'Run experiment' }).isEnabled()).toBe(true);
    await page.screenshot({ path: '.tmp/screenshots/start-first-load.png', fullPage: true });
    // Before the load started the page said what it would cost (issue 22): download, GPU memory with
    // the weights as kept, host memory, and what pruning with the Prune panel's settings needs.
    const cost = (await model.getByText(/^This load: /).allTextContents()).join(' ');
    expect(cost).toMatch(/^This load: downloads [\d.]+ MiB; GPU about [\d.]+ MiB \(weights [\d.]+ MiB as f32; largest buffer .*\); host memory about [\d.]+ MiB beyond the page \(tensors go one at a time, in slices; the tokenizer about [\d.]+ MiB\)\. Pruning it \(wanda, \d+ x \d+ calibration tokens\) needs about [\d.]+ MiB of GPU memory/);
    const [, mib] = /downloads ([\d.]+) MiB/.exec(cost)!;
    // The second visit reads the weights from the browser's cache, and the page says so before the load.
    await page.goto(URL);
    await expect.poll(state, { timeout: 180_000, interval: 500 }).toBe('loaded');
    const again = (await model.getByText(/^This load: /).allTextContents()).join(' ');
    expect(again).toMatch(new RegExp(`^This load: reads ${mib.replace('.', '\\.')} MiB from this browser's cache \\(no download\\); GPU about`));
  }, 240_000);

  it('exports the loaded model as HF and ONNX zips through the same server, tokenizer byte for byte', async () => {
    const { page } = browser;
    const model = 'public/models/polyprune-ml';
    const tokenizer = readFileSync(path.join(model, 'tokenizer.json'));
    const weights = readFileSync(path.join(model, 'model.safetensors'));
    const dir = await mkdtemp(path.join(tmpdir(), 'polyprune-start-export-'));
    try {
      const download = async (format: 'hf' | 'onnx'): Promise<Record<string, Uint8Array>> => {
        const panel = page.locator('.prune-panel');
        await panel.getByLabel('Export format').selectOption(format);
        const [dl] = await Promise.all([page.waitForEvent('download', { timeout: 120_000 }), panel.getByRole('button', { name: 'Download zip' }).click()]);
        const file = path.join(dir, `${format}.zip`);
        await dl.saveAs(file);
        expect(await page.getByRole('alert').allTextContents(), browser.log.join('\n')).toEqual([]);
        return unzipSync(new Uint8Array(await readFile(file)));
      };
      // The server sends model files as they are on disk, ranged or not (no gzip, true Content-Range).
      for (const range of [undefined, 'bytes=0-92666']) {
        const res = await fetch(`${URL}models/polyprune-ml/tokenizer.json`, { headers: { 'Accept-Encoding': 'gzip, br', ...(range ? { Range: range } : {}) } });
        expect([res.headers.get('content-encoding'), res.headers.get('content-range'), (await res.arrayBuffer()).byteLength]).toEqual(range ? [null, `bytes 0-92666/${tokenizer.length}`, 92667] : [null, null, tokenizer.length]);
      }
      await modelLoaded(page, 180_000);
      // The Prune panel says what the prune with its settings needs before it starts (the engine's plan
      // of the loaded model), the same figure the load's message gave (Experiment view), and follows the method.
      const loadSaid = /Pruning it \(wanda, (\d+ x \d+) calibration tokens\) needs about ([\d.]+ MiB) of GPU memory/.exec((await page.locator('section.model-panel').getByText(/^This load: /).allTextContents()).join(' '))!;
      expect(loadSaid).not.toBeNull();
      await openView(page, 'Perplexity & prune');
      const planLine = page.locator('.prune-panel').getByLabel('Prune plan');
      await expect.poll(() => planLine.textContent(), { timeout: 60_000 }).toMatch(new RegExp(`^This prune \\(wanda, ${loadSaid[1]} calibration tokens\\) needs about ${loadSaid[2].replace('.', '\\.')} of GPU memory \\(.*\\) and [\\d.]+ MiB of host memory to export\\.$`));
      await page.locator('.prune-panel').getByLabel('Method', { exact: true }).selectOption('sparsegpt');
      await expect.poll(() => planLine.textContent(), { timeout: 60_000 }).toMatch(/^This prune \(sparsegpt, \d+ x \d+ calibration tokens\) needs about [\d.]+ MiB of GPU memory/);
      // SparseGPT holds Hessians and their factors beside what Wanda needs
      expect(Number(/needs about ([\d.]+) MiB/.exec((await planLine.textContent())!)![1])).toBeGreaterThan(Number(loadSaid[2].split(' ')[0]));
      await page.screenshot({ path: '.tmp/screenshots/start-prune-plan.png', fullPage: true });
      await page.locator('.prune-panel').getByLabel('Method', { exact: true }).selectOption('wanda');
      const hf = await download('hf');
      expect(Buffer.from(hf['tokenizer.json']).equals(tokenizer)).toBe(true);
      // The dense model, exported: the same weights, byte for byte.
      expect(Buffer.from(hf['model.safetensors']).equals(weights)).toBe(true);
      const onnx = await download('onnx');
      expect(Object.keys(onnx)).toEqual(expect.arrayContaining(['config.json', 'onnx/model.onnx', 'onnx/model_fp16.onnx', 'tokenizer.json']));
      expect(Buffer.from(onnx['tokenizer.json']).equals(tokenizer)).toBe(true);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 240_000);

  it('a GPU submit budget of 0 on the page URL is refused with what to give, and the page goes on with the default', async () => {
    const { page } = browser;
    await page.goto(`${URL}?gpuSubmitBudget=0`);
    await expect.poll(async () => (await page.getByRole('alert').allTextContents()).join(' '), { timeout: 60_000 }).toMatch(/\?gpuSubmitBudget= must be a positive number of flops per submit \(for example 1e12, the default: a 2 TFLOP\/s GPU for 0\.5 s\); got '0'\. The default budget is used\./);
    await expect.poll(async () => page.locator('section.model-panel').getByLabel('Model architecture').count(), { timeout: 180_000 }).toBe(1);
    await page.screenshot({ path: '.tmp/screenshots/start-bad-budget.png', fullPage: true });
  }, 240_000);
});

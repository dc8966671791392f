/**
 * The real built app (dist/, from `npm run build`) in headless Chromium with a SwiftShader WebGPU
 * adapter: the engine behind the worker client against the stories260K golden fixtures, and the UI.
 * Needs /usr/bin/chromium and ../shared/fixtures/stories260K; fails (never skips) without them.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import type { StaticServer } from '../helpers/httpServer';
import { fixtureMetrics, fixtureTensors, fixtureWindows } from '../helpers/fixture';
import { tempDir } from '../helpers/shared';
import { launchChromium, type Browser } from './chromium';
import { runTask } from '../../src/eval/run';
import { cpuScorer, fixtureModel, fixtureTokenizer, sharedText } from '../eval/helpers';
import { FIXTURE_DIR, makeBundledStandIn, serveApp } from './standIn';
import { dropOnPage, openView } from './views';
import { fixtureEngine } from '../helpers/engine';
import { BUNDLED_PROMPTS } from '../../src/ui/features/tryit/prompts';

const SCREENSHOT_DIR = process.env.POLYPRUNE_SCREENSHOTS ?? '/tmp';

/** max |a - b| / max |b|, and where the worst element is. */
function relMaxErr(got: ArrayLike<number>, want: ArrayLike<number>): { rel: number; worst: number; maxAbs: number } {
  let maxErr = 0;
  let maxAbs = 0;
  let worst = -1;
  for (let i = 0; i < want.length; i++) {
    const e = Math.abs(got[i] - want[i]);
    if (!(e <= maxErr)) {
      maxErr = e;
      worst = i;
    }
    maxAbs = Math.max(maxAbs, Math.abs(want[i]));
  }
  return { rel: maxErr / maxAbs, worst, maxAbs };
}

let server: StaticServer;
let fixtureUrl: string;
let removeStandIn: (() => Promise<void>) | undefined;

beforeAll(async () => {
  const standIn = await tempDir('polyprune-bundled-');
  removeStandIn = standIn.remove;
  makeBundledStandIn(standIn.dir);
  server = await serveApp({ '/fixtures/stories260K/': FIXTURE_DIR, '/models/polyprune-ml/': standIn.dir });
  fixtureUrl = `${server.url}/fixtures/stories260K/`;
});

afterAll(async () => {
  await server?.close();
  await removeStandIn?.();
});

async function openTestPage(page: Page): Promise<void> {
  await page.goto(`${server.url}/?test=1&autoload=0`);
  await page.waitForFunction(() => window.polyprune?.engine !== undefined, undefined, { timeout: 30_000 });
}

describe('engine in Chromium (worker client, SwiftShader WebGPU)', () => {
  let browser: Browser;
  let modelId: string;

  beforeAll(async () => {
    browser = await launchChromium({ webgpu: true });
    await openTestPage(browser.page);
  });

  afterAll(async () => {
    await browser?.close();
  });

  const diag = (): string => (browser.log.length ? `\nbrowser log:\n${browser.log.join('\n')}` : '');

  it('has a WebGPU adapter', async () => {
    const info = await browser.page.evaluate(() => window.polyprune!.engine.gpuInfo());
    expect(info.description, diag()).toMatch(/\S/);
    expect(info.limits.maxBufferSize).toBeGreaterThan(0);
  });

  it('loads the fixture by URL with progress events', async () => {
    const { summary, events } = await browser.page.evaluate(async (url) => {
      const events: string[] = [];
      const summary = await window.polyprune!.engine.loadModel({ kind: 'url', url, name: 'stories260K' }, { opId: 'load-1', onProgress: (e) => events.push(e.kind) });
      return { summary, events };
    }, fixtureUrl);
    modelId = summary.id;
    expect(summary).toMatchObject({ name: 'stories260K', modelType: 'llama', numLayers: 5, hiddenSize: 64, numHeads: 8, numKvHeads: 4, vocabSize: 512, tieWordEmbeddings: true });
    expect(events.length, 'progress callbacks cross the worker boundary').toBeGreaterThan(0);
  });

  it('logits of calib-en window 0 match dense.safetensors to 1e-4 relative', async () => {
    const calib = await fixtureWindows('calib-en.safetensors');
    const ids = Array.from(calib.ids.subarray(0, calib.seqlen));
    const dense = await fixtureTensors('dense.safetensors');
    const want = await dense.readF32('logits');
    await dense.close();
    const got = await browser.page.evaluate(async ({ id, ids }) => Array.from(await window.polyprune!.engine.logits(id, new Int32Array(ids))), { id: modelId, ids });
    expect(got.length).toBe(want.length);
    const { rel, worst, maxAbs } = relMaxErr(got, want);
    expect(rel, `worst at ${worst}: got ${got[worst]}, want ${want[worst]} (max |logit| ${maxAbs})`).toBeLessThanOrEqual(1e-4);
  });

  it('perplexity of the 4 eval-en windows matches metrics.json to 1e-4 relative', async () => {
    const w = await fixtureWindows('eval-en.safetensors');
    expect(w).toMatchObject({ n: 4, seqlen: 64 });
    const want = fixtureMetrics().variants.dense.eval['eval-en'].ppl as number;
    const res = await browser.page.evaluate(
      async ({ id, ids, n, seqlen }) => window.polyprune!.engine.perplexity(id, { windows: { ids: new Int32Array(ids), n, seqlen }, seqlen }),
      { id: modelId, ids: Array.from(w.ids), n: w.n, seqlen: w.seqlen },
    );
    expect(Math.abs(res.ppl - want) / want, `ppl ${res.ppl}, want ${want}`).toBeLessThanOrEqual(1e-4);
  });

  it('multiple-choice scoring with shared contexts (prefix attention) in the worker agrees with the CPU reference', async () => {
    const text = sharedText('data/tasks/xcopa/data/it/test.it.jsonl');
    const limit = 10;
    const got = await browser.page.evaluate(async ({ id, text, limit }) => window.polyprune!.engine.evalTask(id, { task: 'xcopa', language: 'it', text, limit }), { id: modelId, text, limit });
    const want = await runTask({ task: 'xcopa', language: 'it', text, limit, tokenizer: fixtureTokenizer(), scorer: cpuScorer(await fixtureModel(), 512) });
    expect(got.n).toBe(limit);
    expect({ acc: got.acc, acc_norm: got.acc_norm, acc_bytes: got.acc_bytes }).toEqual({ acc: want.acc, acc_norm: want.acc_norm, acc_bytes: want.acc_bytes });
  });

  it('cancel(opId) from the page stops a running operation in the worker with CANCELLED', async () => {
    // A model load checks for cancellation between layers, so this is quick even on SwiftShader.
    const code = await browser.page.evaluate(async (url) => {
      const engine = window.polyprune!.engine;
      const run = engine.loadModel({ kind: 'url', url }, { opId: 'cancel-me' }).then(
        () => 'finished',
        (e: { code?: string }) => e.code ?? 'no code',
      );
      await engine.cancel('cancel-me');
      return run;
    }, fixtureUrl);
    expect(code).toBe('CANCELLED');
    const models = await browser.page.evaluate(() => window.polyprune!.engine.listModels());
    expect(models.map((m) => m.id)).toEqual([modelId]);
  });

  it('errors keep their code across the worker boundary', async () => {
    const err = await browser.page.evaluate(async (url) => {
      try {
        await window.polyprune!.engine.loadModel({ kind: 'url', url });
        return null;
      } catch (e) {
        const x = e as Error & { code?: string };
        return { isError: x instanceof Error, name: x.name, code: x.code, message: x.message };
      }
    }, `${server.url}/no-such-model/`);
    expect(err).not.toBeNull();
    expect(err!.isError).toBe(true);
    expect(err!.code).toBe('FILE_NOT_FOUND');
    expect(err!.message).toContain('config.json');
    const bad = await browser.page.evaluate(async (id) => {
      try {
        await window.polyprune!.engine.unloadModel(id);
        return null;
      } catch (e) {
        return (e as { code?: string }).code;
      }
    }, 'no-such-id');
    expect(bad).toBe('BAD_ARGUMENT');
  });
});

describe('app UI in Chromium', () => {
  let browser: Browser;

  beforeAll(async () => {
    browser = await launchChromium({ webgpu: true });
  });

  afterAll(async () => {
    await browser?.close();
  });

  it('shows the WebGPU status, loads the bundled model and measures every bundled language', async () => {
    const { page } = browser;
    await page.goto(`${server.url}/`);
    expect(await page.evaluate(() => window.polyprune), 'no test hook without ?test=1').toBeUndefined();
    const gpu = page.locator('section.gpu-status');
    await expect.poll(() => gpu.getAttribute('data-state'), { timeout: 30_000 }).toBe('ready');
    await expect.poll(() => gpu.locator('.gpu-adapter').textContent()).toMatch(/\S/);

    // The bundled model loads by itself on open.
    await page.getByLabel('Model architecture').waitFor({ timeout: 60_000 });
    expect(await page.locator('.model-summary h3').textContent()).toContain('polyprune-ml');
    await openView(page, 'Perplexity & prune');
    await expect.poll(() => page.getByLabel('Evaluation language', { exact: true }).locator('option').allTextContents()).toEqual(['de', 'en']);
    await page.getByLabel('Sequence length', { exact: true }).fill('64');
    await page.getByRole('button', { name: 'Measure all languages' }).click();
    for (const lang of ['en', 'de']) await page.locator(`.ppl-results tbody tr[data-label="${lang}"] .ppl-value`).waitFor({ timeout: 60_000 });
    await page.locator('figure.chart svg.recharts-surface').last().waitFor({ timeout: 30_000 });
    expect(await page.locator('figure.chart .recharts-bar-rectangle').count()).toBe(2);
    // The chart adds no tab stops (the table holds its numbers).
    expect(await page.locator('figure.chart').evaluate((f) => [...f.querySelectorAll<HTMLElement>('*')].filter((el) => el.tabIndex >= 0).length)).toBe(0);
    await page.screenshot({ path: path.join(SCREENSHOT_DIR, 'polyprune-ui-languages.png'), fullPage: true });
    expect(await page.getByRole('alert').count(), browser.log.join('\n')).toBe(0);
  });

  it('loads a model by URL and measures pasted text', async () => {
    const { page } = browser;
    await openView(page, 'Experiment');
    await page.getByLabel('Model folder URL').fill(fixtureUrl);
    await page.getByRole('button', { name: 'Load from URL' }).click();
    await expect.poll(() => page.locator('.model-summary h3').textContent(), { timeout: 60_000 }).toContain('stories260K');
    const text = await page.getByLabel('Model architecture').textContent();
    expect(text).toContain('layers5');
    expect(text).toContain('heads / KV heads8 / 4');
    expect(text).toContain('vocabulary512');

    await openView(page, 'Perplexity & prune');
    await page.getByRole('radio', { name: 'Your own text' }).check();
    const pasted = 'Once upon a time, there was a little girl named Lily. She loved to play outside in the park with her friends. '.repeat(4);
    await page.getByLabel('Text to measure').fill(pasted);
    await page.getByLabel('Sequence length', { exact: true }).fill('64');
    await page.getByLabel('Max windows', { exact: true }).fill('2');
    await page.getByRole('button', { name: 'Measure', exact: true }).click();
    const ppl = page.locator('.ppl-results tbody tr[data-label="pasted text"] .ppl-value');
    await ppl.waitFor({ timeout: 60_000 });
    expect(Number(await ppl.textContent())).toBeGreaterThan(1);
    await page.screenshot({ path: path.join(SCREENSHOT_DIR, 'polyprune-ui-loaded.png'), fullPage: true });
    // A .txt file dropped on the text area is kept and shown in it.
    const dropped = 'One day, Lily found a big red ball in the park. '.repeat(3);
    await dropOnPage(page, '#ppl-custom', [{ name: 'lily-en.txt', text: dropped }]);
    await expect.poll(() => page.getByLabel('Text to measure').inputValue()).toBe(dropped);
    await page.getByLabel('Text to measure').fill(pasted); // the pasted text again, for the tests below
    expect(await page.getByRole('alert').count(), browser.log.join('\n')).toBe(0);
  });

  it('prunes the active model (magnitude 50 %) into a new loaded model', async () => {
    const { page } = browser;
    await page.locator('.prune-panel').getByLabel('Method', { exact: true }).selectOption('magnitude');
    await page.getByRole('button', { name: 'Prune', exact: true }).click();
    const note = page.locator('.prune-panel [role="status"].message-info');
    await note.waitFor({ timeout: 120_000 });
    expect(await note.textContent()).toMatch(/50\.0 %/);
    expect(await page.locator('.prune-panel [role="alert"]').count()).toBe(0);
    await openView(page, 'Experiment');
    expect(await page.locator('.model-list label').count()).toBe(3);
    // Results of every model stay side by side, labelled; the chart compares the pruned model with the dense ones.
    const pruned = (await page.locator('.model-list label').last().textContent())!.trim();
    await openView(page, 'Perplexity & prune');
    await page.getByRole('button', { name: 'Measure all languages' }).click();
    for (const lang of ['en', 'de']) await expect.poll(() => page.locator(`.ppl-results tbody tr[data-label="${lang}"]`).count(), { timeout: 60_000 }).toBe(2);
    expect(await page.locator('.ppl-results tbody tr[data-label="pasted text"]').count()).toBe(1);
    await expect.poll(() => page.locator('figure.chart .recharts-legend-item-text').allTextContents(), { timeout: 30_000 }).toEqual(expect.arrayContaining([expect.stringContaining('polyprune-ml'), expect.stringContaining(pruned.split(/\s/)[0])]));
    await page.screenshot({ path: path.join(SCREENSHOT_DIR, 'polyprune-ui-pruned.png'), fullPage: true });
  });

  it('an unreachable model URL shows an error with its code and the page stays usable', async () => {
    const { page } = browser;
    // Port 9 (discard) on 127.0.0.1: connection refused, no network needed.
    await openView(page, 'Experiment');
    await page.getByLabel('Model folder URL').fill('http://127.0.0.1:9/model/');
    await page.getByRole('button', { name: 'Load from URL' }).click();
    const alert = page.locator('.model-panel [role="alert"]');
    await alert.waitFor({ timeout: 30_000 });
    expect(await alert.getAttribute('data-code')).toBe('FETCH_FAILED');
    expect(await alert.textContent()).toContain('127.0.0.1:9');
    await page.screenshot({ path: path.join(SCREENSHOT_DIR, 'polyprune-ui-error.png'), fullPage: true });
    // Still usable: the loaded model stays, buttons are enabled again, a new measurement runs.
    expect(await page.getByLabel('Model architecture').isVisible()).toBe(true);
    expect(await page.getByRole('button', { name: 'Load from URL' }).isEnabled()).toBe(true);
    await openView(page, 'Perplexity & prune');
    await page.getByLabel('Max windows', { exact: true }).fill('1');
    await page.getByRole('button', { name: 'Measure', exact: true }).click();
    await expect.poll(() => page.locator('.ppl-results tbody tr[data-label="pasted text"] td:nth-last-child(2)').last().textContent(), { timeout: 60_000 }).toMatch(/^1 × 64/);
  });
});

describe('app UI without WebGPU', () => {
  it('explains why WebGPU is unavailable and what to do; Try it runs an opened ONNX export on wasm', { timeout: 300_000 }, async () => {
    const browser = await launchChromium({ webgpu: false });
    try {
      const { page } = browser;
      await page.goto(`${server.url}/`);
      const gpu = page.locator('section.gpu-status');
      await expect.poll(() => gpu.getAttribute('data-state'), { timeout: 30_000 }).toBe('unavailable');
      const text = (await gpu.textContent()) ?? '';
      expect(text).toContain('GPU_UNAVAILABLE');
      expect(text).toMatch(/chrome:\/\/flags/);
      await page.screenshot({ path: path.join(SCREENSHOT_DIR, 'polyprune-ui-no-webgpu.png'), fullPage: true });
      // The rest of the page still renders.
      expect(await page.getByRole('heading', { name: 'Model' }).isVisible()).toBe(true);
      await openView(page, 'Perplexity & prune');
      expect(await page.getByRole('heading', { name: 'Perplexity' }).isVisible()).toBe(true);

      // Try it still runs an ONNX export (the .zip Export -> ONNX writes; here made in Node from the
      // bundled model) on onnxruntime-web's wasm backend, and says what it cannot do without WebGPU
      const { engine, base } = await fixtureEngine({}, path.resolve('public/models/polyprune-ml'));
      const tmp = await tempDir('pp-tryit-nogpu-');
      const zip = path.join(tmp.dir, 'polyprune-ml-onnx.zip');
      let want: { prompt: number[]; ids: number[] };
      try {
        writeFileSync(zip, new Uint8Array(await (await engine.exportZip(base.id, { format: 'onnx', onnxVariants: ['fp32'] })).arrayBuffer()));
        const g = await engine.generate(base.id, { prompt: BUNDLED_PROMPTS.de, maxNewTokens: 8 });
        want = { prompt: Array.from(g.promptIds), ids: Array.from(g.tokens) };
      } finally {
        await engine.dispose();
      }
      await openView(page, 'Try it');
      const tryit = page.locator('section.tryit-panel');
      expect(await tryit.getByTestId('tryit-nogpu').textContent()).toMatch(/no usable WebGPU, so PolyPrune's engine cannot load, prune or export a model here, and Check .* cannot run\. Try it can still run an ONNX export on onnxruntime-web's wasm backend/);
      const open = tryit.getByLabel('Open an ONNX export (.zip)');
      await open.setInputFiles({ name: 'notes.zip', mimeType: 'application/zip', buffer: Buffer.from('not a zip at all') });
      await expect.poll(() => tryit.textContent(), { timeout: 30_000 }).toMatch(/notes\.zip is not a zip of an ONNX export \(.*\): make it with Export → ONNX\./);
      await open.setInputFiles(zip);
      await tryit.getByText(/\(ONNX export, [\d.]+ MiB\)/).waitFor({ timeout: 60_000 }).catch(async (e: unknown) => {
        await page.screenshot({ path: path.join(SCREENSHOT_DIR, 'tryit-no-webgpu-failed.png'), fullPage: true });
        throw new Error(`${String(e)}\nTry it: ${await tryit.textContent()}\n${browser.log.join('\n')}`);
      });
      await tryit.getByRole('group', { name: 'Bundled prompts' }).getByRole('button', { name: 'de', exact: true }).click();
      await tryit.getByLabel('Max new tokens').fill('8');
      expect(await tryit.getByRole('button', { name: 'Check' }).isDisabled()).toBe(true);
      await tryit.getByRole('button', { name: 'Generate' }).click();
      const out = tryit.locator('.tryit-output');
      await expect.poll(() => out.getAttribute('data-status'), { timeout: 180_000 }).toMatch(/^(done|failed)$/);
      const got = await out.evaluate((e) => ({ status: e.getAttribute('data-status'), prompt: e.getAttribute('data-prompt-ids')!.split(',').map(Number), ids: e.getAttribute('data-ids')!.split(',').filter(Boolean).map(Number), head: e.querySelector('header')!.textContent!, text: e.textContent }));
      await page.screenshot({ path: path.join(SCREENSHOT_DIR, 'tryit-no-webgpu.png'), fullPage: true });
      expect(got.status, `${got.text}${browser.log.join('\n')}`).toBe('done');
      expect(got.head).toMatch(new RegExp(`polyprune-ml-onnx dense · wasm · done · ${want.ids.length} tokens`));
      // the export's own tokenizer makes the engine's prompt ids, and greedy wasm decoding gives the engine's tokens (Dawn, in Node)
      expect(got.prompt).toEqual(want.prompt);
      expect(got.ids).toEqual(want.ids);
      // this Chromium offers navigator.gpu without an adapter; one without WebGPU at all says "This browser has no WebGPU"
      expect(await tryit.getByTestId('tryit-runtime').textContent()).toMatch(/^(WebGPU gave no adapter here|This browser has no WebGPU): onnxruntime-web runs on wasm \(CPU\) instead\.$/);
      await tmp.remove();
    } finally {
      await browser.close();
    }
  });
});

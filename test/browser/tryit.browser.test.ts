/**
 * The "Try it" panel (issue 24) in headless Chromium on the bundled model (public/models/polyprune-ml,
 * served from dist/): prune it (magnitude 2:4), open "Try it", generate 8 greedy
 * tokens from the dense and the pruned model for the bundled German prompt in transformers.js on
 * onnxruntime-web (the models exported to ONNX in memory); each continuation (ids and text) equals
 * the engine's greedy continuation of the same ids (Engine.generate), and "Check" finds the runtime's logits of the prompt within
 * 1e-4 of the largest logit of the engine's. Bad settings end in one-line messages. Screenshots:
 * .tmp/screenshots/tryit-*.png.
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { StaticServer } from '../helpers/httpServer';
import { launchChromium, type Browser } from './chromium';
import { serveApp } from './standIn';
import { modelLoaded, openView } from './views';
import { BUNDLED_PROMPTS } from '../../src/ui/features/tryit/prompts';

const SHOTS = path.resolve(process.cwd(), '.tmp/screenshots');
mkdirSync(SHOTS, { recursive: true });
/**
 * New tokens per model. Each is one decode step of Engine.generate on SwiftShader (about 2 s in CI, the
 * bulk of this test). The dense and the 2:4 continuations of the German prompt part at their 2nd token.
 */
const STEPS = 8;

let server: StaticServer;
let browser: Browser;
let page: Page;

beforeAll(async () => {
  server = await serveApp();
  browser = await launchChromium({ webgpu: true });
  page = browser.page;
  await page.setViewportSize({ width: 1400, height: 1000 });
  await page.goto(`${server.url}/?test=1`);
  const t = Date.now();
  await modelLoaded(page);
  console.log(`bundled model loaded: ${((Date.now() - t) / 1000).toFixed(1)} s`);
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

const log = (): string => browser.log.join('\n');
const panel = () => page.locator('section.tryit-panel');
const shot = (name: string) => page.screenshot({ path: path.join(SHOTS, `tryit-${name}.png`), fullPage: true });

/** The engine's greedy continuation of `ids` (Engine.generate with the K/V cache, stopping after EOS). */
async function engineGreedy(modelId: string, ids: number[], steps: number): Promise<{ ids: number[]; text: string }> {
  return page.evaluate(
    async ({ modelId, ids, steps }) => {
      const r = await window.polyprune!.engine.generate(modelId, { promptIds: Int32Array.from(ids), maxNewTokens: steps });
      return { ids: Array.from(r.tokens), text: r.text };
    },
    { modelId, ids, steps },
  );
}

async function message(): Promise<string> {
  const alert = panel().getByRole('alert').first();
  await alert.waitFor({ timeout: 10_000 });
  return (await alert.textContent()) ?? '';
}

it(`generates ${STEPS} greedy tokens from the dense and the pruned bundled model, equal to the engine's, and Check agrees within 1e-4`, async () => {
  const t0 = Date.now();
  const lap = (what: string) => console.log(`${what}: ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  await openView(page, 'Perplexity & prune');
  const prune = page.locator('.prune-panel');
  // Magnitude: no calibration passes, so the prune costs no forward pass on a loaded CI machine. 2:4
  // rather than 50 % unstructured: its continuation parts from the dense one at the 2nd token (50 %
  // unstructured: at the 9th), so fewer tokens show that the two differ.
  await prune.getByLabel('Method', { exact: true }).selectOption('magnitude');
  await prune.getByRole('radio', { name: '2:4 semi-structured' }).check();
  await prune.getByRole('button', { name: 'Prune', exact: true }).click();
  await prune.getByLabel('Pruning report').waitFor({ timeout: 180_000 });

  lap('pruned');
  await openView(page, 'Try it');
  expect(new URL(page.url()).searchParams.get('view')).toBe('tryit');
  await expect.poll(() => panel().locator('.tryit-models input[type="checkbox"]:checked').count()).toBe(2);
  await panel().getByRole('group', { name: 'Bundled prompts' }).getByRole('button', { name: 'de', exact: true }).click();
  expect(await panel().getByRole('textbox', { name: 'Prompt' }).inputValue()).toBe(BUNDLED_PROMPTS.de);

  // Bad settings: one line each, nothing runs.
  const maxNew = panel().getByLabel('Max new tokens');
  for (const [v, want] of [
    ['0', 'Max new tokens must be a whole number from 1 to'],
    ['300', "the model's context is 256 tokens"],
  ] as const) {
    await maxNew.fill(v);
    await panel().getByRole('button', { name: 'Generate' }).click();
    expect(await message()).toContain(want);
  }
  await panel().getByLabel('Sampling').check();
  await maxNew.fill(String(STEPS));
  for (const [field, v, want] of [
    ['Temperature', '0', 'Temperature 0 means greedy decoding: choose Greedy'],
    ['Top-p', '1.5', 'Top-p 1.5 is out of range: give a number above 0 and at most 1'],
  ] as const) {
    const input = panel().getByLabel(field, { exact: true });
    const keep = await input.inputValue();
    await input.fill(v);
    await panel().getByRole('button', { name: 'Generate' }).click();
    expect(await message()).toContain(want);
    await input.fill(keep);
  }
  expect(await panel().locator('.tryit-output').count()).toBe(0);
  await panel().getByLabel('Greedy').check();

  await panel().getByRole('button', { name: 'Generate' }).click();
  // The first streamed token (on wasm a model may finish between two polls, so any token counts).
  await page.waitForFunction(() => [...document.querySelectorAll('.tryit-output')].some((o) => o.getAttribute('data-ids') !== '' || o.getAttribute('data-status') === 'failed'), undefined, { timeout: 300_000 });
  lap('first token');
  await shot('streaming');
  await page.waitForFunction(() => {
    const o = [...document.querySelectorAll('.tryit-output')];
    return o.length === 2 && o.every((x) => ['done', 'failed', 'stopped'].includes(x.getAttribute('data-status') ?? ''));
  }, undefined, { timeout: 300_000 });
  const outs = await panel()
    .locator('.tryit-output')
    .evaluateAll((els) => els.map((e) => ({ id: e.getAttribute('data-model-id')!, status: e.getAttribute('data-status'), prompt: e.getAttribute('data-prompt-ids')!.split(',').map(Number), ids: e.getAttribute('data-ids')!.split(',').filter(Boolean).map(Number), text: e.getAttribute('data-text')!, head: e.querySelector('header')!.textContent! })));
  lap('generated');
  const note = await panel().getByTestId('tryit-runtime').textContent();
  console.log(`Try it runtime: ${note}`);
  expect(outs.map((o) => o.status), `${await panel().innerText()}\n${log()}`).toEqual(['done', 'done']);
  const models = await page.evaluate(async () => (await window.polyprune!.engine.listModels()).map((m) => ({ id: m.id, pruned: Boolean(m.pruning) })));
  expect(outs.map((o) => models.find((m) => m.id === o.id)?.pruned).sort()).toEqual([false, true]);
  for (const o of outs) {
    const tokenized = await page.evaluate(async ({ id, text }) => Array.from(await window.polyprune!.engine.tokenize(id, text)), { id: o.id, text: BUNDLED_PROMPTS.de });
    expect(o.prompt).toEqual([1, ...tokenized]); // BOS, then the prompt as the engine tokenizes it
    const want = await engineGreedy(o.id, o.prompt, STEPS);
    console.log(`${o.head}: ${JSON.stringify(o.text)} (engine: ${JSON.stringify(want.text)}, ids ${JSON.stringify(want.ids)})`);
    expect(o.ids).toEqual(want.ids);
    expect(o.text).toBe(want.text);
    expect(o.ids.length).toBe(want.ids.at(-1) === 2 ? want.ids.length : STEPS);
    expect(o.text.trim().length).toBeGreaterThan(0);
  }
  lap('engine greedy (Engine.generate, both models)');
  // Dense and pruned are different models: their continuations differ somewhere (magnitude 2:4).
  expect(outs[0].ids).not.toEqual(outs[1].ids);
  await shot('1400');

  await panel().getByRole('button', { name: 'Check' }).click();
  await page.waitForFunction(() => document.querySelectorAll('.tryit-checks tbody tr').length === 2 && !document.querySelector('.tryit-panel .op-progress'), undefined, { timeout: 120_000 });
  lap('checked');
  const rel = await panel().locator('.tryit-checks tbody tr').evaluateAll((rows) => rows.map((r) => Number(r.getAttribute('data-relative'))));
  console.log(`Check: runtime vs engine logits, max |diff| / max |logit| = ${rel.map((r) => r.toExponential(2)).join(', ')}`);
  for (const r of rel) expect(r).toBeLessThan(1e-4);
  await page.setViewportSize({ width: 390, height: 844 });
  await shot('390');
  expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
  await page.setViewportSize({ width: 1400, height: 1000 });
});

/**
 * What PolyPrune refuses, as a browser user meets it, on the production build in Chromium: a NaN
 * checkpoint dropped in, a model URL whose server stalls, a tokenizer that does not fit the model, a
 * PNG renamed .txt as "Your own text". Each ends with a message in its panel, and the page stays
 * usable (the good model loads afterwards). Cases come from test/robustness/make-corpus.ts.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStaticServer, type StaticServer } from '../helpers/httpServer';
import { startFaultyServer, type FaultyServer } from '../helpers/faultyServer';
import { FIXTURE, requireShared } from '../helpers/fixture';
import { makeCorpus, type Corpus } from '../robustness/make-corpus';
import { launchChromium, type Browser } from './chromium';
import { openView } from './views';

const DIST = path.resolve(process.cwd(), 'dist');
const SHOTS = path.resolve(process.cwd(), '.tmp');

let server: StaticServer;
let stall: FaultyServer;
let endless: FaultyServer;
let browser: Browser;
let corpus: Corpus;
let tmp: string;

beforeAll(async () => {
  if (!existsSync(path.join(DIST, 'index.html'))) throw new Error('Build the app first: npm run build (npm test does it before vitest).');
  requireShared(FIXTURE);
  tmp = mkdtempSync(path.join(os.tmpdir(), 'polyprune-refuse-'));
  corpus = await makeCorpus(FIXTURE, tmp);
  server = await startStaticServer({ '/': DIST, '/good/': FIXTURE, '/tok/': corpus.models.tokenizerTooBig, '/tokneg/': corpus.models.tokenizerNegativeId });
  stall = await startFaultyServer(FIXTURE, { mode: 'stall', faulty: ['model.safetensors'], after: 1000 });
  endless = await startFaultyServer(FIXTURE, { mode: 'endless', faulty: ['config.json'], after: 0 });
  mkdirSync(SHOTS, { recursive: true });
  browser = await launchChromium({ webgpu: true });
  await browser.page.goto(`${server.url}/?stallTimeout=2&autoload=0`);
  await browser.page.getByRole('heading', { name: 'Model' }).waitFor({ timeout: 60_000 });
});

afterAll(async () => {
  await browser?.close();
  await stall?.close();
  await endless?.close();
  await server?.close();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

const modelPanel = () => browser.page.locator('section.model-panel');
const diag = (): string => (browser.log.length ? `\nbrowser log:\n${browser.log.join('\n')}` : '');

async function alertWith(panel: ReturnType<typeof modelPanel>, code: string, timeout = 120_000): Promise<string> {
  const alert = panel.locator(`[role=alert][data-code="${code}"]`).last();
  await alert.waitFor({ timeout });
  return (await alert.textContent()) ?? '';
}

async function dismissAll(): Promise<void> {
  const buttons = browser.page.getByRole('button', { name: 'Dismiss message' });
  while ((await buttons.count()) > 0) await buttons.first().click();
}

describe('what the app refuses (Chromium, production build)', () => {
  it('a checkpoint with a NaN weight, dropped in, is refused naming the tensor and index', async () => {
    const files = ['config.json', 'tokenizer.json', 'tokenizer_config.json', 'model.safetensors'].map((f) => path.join(corpus.models.nanWeight, f));
    await modelPanel().locator('input[type=file][multiple]').setInputFiles(files);
    const text = await alertWith(modelPanel(), 'NON_FINITE');
    expect(text, diag()).toContain("'model.layers.2.mlp.up_proj.weight'");
    expect(text).toContain('[7, 3]');
    await browser.page.screenshot({ path: path.join(SHOTS, 'refuse-nan.png'), fullPage: true });
    expect(await browser.page.locator('.model-summary').count()).toBe(0);
  });

  it('a model URL whose server stalls ends after the stall timeout, naming the URL and bytes', async () => {
    await dismissAll();
    await browser.page.locator('#model-url').fill(`${stall.url}/`);
    await browser.page.getByRole('button', { name: 'Load from URL' }).click();
    const text = await alertWith(modelPanel(), 'FETCH_FAILED', 60_000);
    expect(text, diag()).toContain(`${stall.url}/model.safetensors`);
    expect(text).toContain('stalled');
    expect(text).toMatch(/after \d+( of \d+)? bytes/); // 0 bytes when even the headers stall
  });

  it('a tokenizer with ids past vocab_size is refused at load', async () => {
    await dismissAll();
    await browser.page.locator('#model-url').fill(`${server.url}/tok/`);
    await browser.page.getByRole('button', { name: 'Load from URL' }).click();
    const text = await alertWith(modelPanel(), 'TOKENIZER_INVALID');
    expect(text, diag()).toContain('vocab_size is 512');
    await browser.page.screenshot({ path: path.join(SHOTS, 'refuse-tokenizer.png'), fullPage: true });
    // every id the tokenizer can emit is checked, not only the largest: an added token with id -1
    await dismissAll();
    await browser.page.locator('#model-url').fill(`${server.url}/tokneg/`);
    await browser.page.getByRole('button', { name: 'Load from URL' }).click();
    const neg = await alertWith(modelPanel(), 'TOKENIZER_INVALID');
    expect(neg, diag()).toContain("added token '<minus_one>' has id -1");
    // a config.json that never ends stops at the JSON cap instead of filling the tab's memory
    await dismissAll();
    await browser.page.locator('#model-url').fill(`${endless.url}/`);
    await browser.page.getByRole('button', { name: 'Load from URL' }).click();
    const big = await alertWith(modelPanel(), 'INPUT_TOO_LARGE', 60_000);
    expect(big, diag()).toContain(`${endless.url}/config.json is larger than 64.0 MiB`);
    await browser.page.screenshot({ path: path.join(SHOTS, 'refuse-json-cap.png'), fullPage: true });
  });

  it('the page stays usable: the good model loads, and a PNG renamed .txt is refused as text', async () => {
    await dismissAll();
    await browser.page.locator('#model-url').fill(`${server.url}/good/`);
    await browser.page.getByRole('button', { name: 'Load from URL' }).click();
    await browser.page.locator('.model-summary h3').waitFor({ timeout: 120_000 });
    expect(await browser.page.locator('.model-summary h3').textContent(), diag()).toContain('good');
    await openView(browser.page, 'Perplexity & prune');
    const ppl = browser.page.locator('section[aria-labelledby=ppl-heading]');
    await ppl.locator('input[type=file]').first().setInputFiles(corpus.texts.png);
    const alert = ppl.locator('[role=alert][data-code="BAD_ARGUMENT"]').last();
    await alert.waitFor({ timeout: 30_000 });
    expect(await alert.textContent()).toContain('PNG image');
    // a text shorter than one window is measured, flagged with a warning, and its row can be removed
    await ppl.getByRole('radio', { name: 'Your own text' }).check();
    await ppl.locator('textarea').fill('Once upon a time there was a little cat.');
    await ppl.getByRole('button', { name: 'Measure', exact: true }).click();
    const row = ppl.locator('tr[data-label]');
    await row.first().waitFor({ timeout: 120_000 });
    const notice = ppl.locator('[role=status]', { hasText: 'fewer than one full window of 128' });
    await notice.first().waitFor({ timeout: 10_000 });
    await browser.page.screenshot({ path: path.join(SHOTS, 'refuse-usable.png'), fullPage: true });
    await ppl.getByRole('button', { name: /^Remove the row / }).first().click();
    expect(await row.count(), diag()).toBe(0);
  });
});

/**
 * The study panels of the built app (dist/) in headless Chromium with SwiftShader WebGPU: the
 * language matrix (a 2 x 2 grid with Wanda on the stories260K stand-in), the Tasks panel (bundled
 * UDHR and a dropped JSONL file), and the pruning report with its zip download. Kept small: tiny
 * calibration and evaluation windows.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { unzipSync } from 'fflate';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStaticServer, type StaticServer } from '../helpers/httpServer';
import { tempDir } from '../helpers/shared';
import { launchChromium, type Browser } from './chromium';
import { FIXTURE_DIR, makeBundledStandIn } from './standIn';

const DIST = path.resolve(process.cwd(), 'dist');
const SCREENSHOT_DIR = process.env.POLYPRUNE_SCREENSHOTS ?? '/tmp';

let server: StaticServer;
let browser: Browser;
let work: { dir: string; remove: () => Promise<void> };

beforeAll(async () => {
  if (!existsSync(path.join(DIST, 'index.html'))) throw new Error('Build the app first: npm run build (npm test does it before vitest).');
  if (!existsSync(path.join(FIXTURE_DIR, 'config.json'))) throw new Error('The browser tests need ../shared/fixtures/stories260K beside the checkout.');
  work = await tempDir('polyprune-study-');
  const standIn = path.join(work.dir, 'model');
  const { mkdirSync } = await import('node:fs');
  mkdirSync(standIn);
  makeBundledStandIn(standIn);
  server = await startStaticServer({ '/': DIST, '/models/polyprune-ml/': standIn });
  browser = await launchChromium({ webgpu: true });
  await browser.page.goto(`${server.url}/?test=1`);
  await browser.page.getByRole('button', { name: 'Load the bundled model' }).click();
  await browser.page.getByLabel('Model architecture').waitFor({ timeout: 60_000 });
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
  await work?.remove();
});

const log = (): string => browser.log.join('\n');

describe('language matrix panel', () => {
  it('fills the languages of the bundled model and cancels a grid while it prunes, leaving no model behind', async () => {
    const { page } = browser;
    const panel = page.locator('.matrix-panel');
    await panel.getByLabel('Calibration windows').fill('4');
    await panel.getByLabel('Window length (tokens)').fill('32');
    await panel.getByLabel('Evaluation windows per language').fill('2');
    await panel.getByLabel('Method', { exact: true }).selectOption('wanda');
    expect(await panel.locator('.lang-picker input[type="checkbox"]:checked').count()).toBe(4);
    await panel.getByRole('button', { name: 'Run matrix' }).click();
    // Cancel while the first calibrated copy is being pruned (an engine call in flight, by opId).
    await expect.poll(() => panel.locator('.op-progress-step').textContent(), { timeout: 60_000 }).toContain('pruning with de calibration');
    await panel.getByRole('button', { name: 'Cancel' }).click();
    await expect.poll(() => panel.locator('.message-info').textContent(), { timeout: 60_000 }).toContain('Cancelled');
    expect(await panel.locator('[role="alert"]').count(), log()).toBe(0);
    // The grid unloads the pruned copy it made, also when cancelled.
    await expect.poll(() => page.evaluate(async () => (await window.polyprune!.engine.listModels()).length)).toBe(1);
  });

  it('runs a 2 x 2 Wanda grid and shows the heatmap with a dense row and the best calibration per column', async () => {
    const { page } = browser;
    const panel = page.locator('.matrix-panel');
    await panel.getByRole('button', { name: 'Run matrix' }).click();
    await expect.poll(() => panel.locator('.op-progress-step').textContent(), { timeout: 60_000 }).toMatch(/Step [2-8] of 8: /);
    await panel.screenshot({ path: path.join(SCREENSHOT_DIR, 'polyprune-ui-matrix-running.png') });
    const table = panel.locator('table.heatmap');
    await table.waitFor({ timeout: 240_000 });
    expect(await panel.locator('[role="alert"]').count(), log()).toBe(0);
    expect(await table.locator('thead th').allTextContents()).toEqual([expect.stringContaining('calibration'), 'de', 'en', 'sparsity']);
    expect(await table.locator('tbody tr').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-row')))).toEqual(['dense', 'de', 'en']);
    const ppl = await table.locator('tbody td[data-col] .heatmap-value').allTextContents();
    expect(ppl).toHaveLength(4);
    for (const v of ppl) expect(Number(v.replace('★', '').trim())).toBeGreaterThan(1);
    // One best calibration per evaluation language.
    expect(await table.locator('td.heatmap-best').count()).toBe(2);
    expect(await table.locator('td.heatmap-own').count()).toBe(2);
    await expect.poll(() => panel.locator('.matrix-summary').textContent()).toMatch(/Own-language calibration is best for [0-2] of 2 languages/);
    expect(await table.locator('tbody tr[data-row="en"] td.heatmap-sparsity').textContent()).toBe('50.0 %');
    await panel.screenshot({ path: path.join(SCREENSHOT_DIR, 'polyprune-ui-matrix.png') });

    await panel.getByRole('radio', { name: 'bits per byte' }).check();
    const bpb = await table.locator('tbody tr[data-row="dense"] td[data-col]').allTextContents();
    for (const v of bpb) expect(v).toMatch(/^\d+\.\d{3}$/);
    await panel.getByRole('radio', { name: 'perplexity' }).check();
    expect(await page.evaluate(async () => (await window.polyprune!.engine.listModels()).length)).toBe(1);
  });
});

describe('tasks panel', () => {
  it('scores the bundled UDHR task in the model languages (2 items each)', async () => {
    const { page } = browser;
    const panel = page.locator('.tasks-panel');
    await expect.poll(() => panel.locator('.lang-picker input[type="checkbox"]').count(), { timeout: 30_000 }).toBeGreaterThan(10);
    expect(await panel.locator('.lang-picker input[type="checkbox"]:checked').count()).toBe(2);
    await panel.getByLabel('Max items per task').fill('2');
    await panel.getByRole('button', { name: 'Score' }).click();
    for (const lang of ['de', 'en']) await panel.locator(`tr[data-task="udhr"][data-language="${lang}"] .task-acc`).waitFor({ timeout: 120_000 });
    expect(await panel.locator(`tr[data-task="udhr"][data-language="en"] td`).nth(3).textContent()).toBe('2');
    expect(await panel.locator('[role="alert"]').count(), log()).toBe(0);
  });

  it('scores a dropped JSONL file and reports its malformed line with the line number', async () => {
    const { page } = browser;
    const panel = page.locator('.tasks-panel');
    await panel.getByRole('radio', { name: 'A task file' }).check();
    const lines = [
      { context: 'Once upon a time, there was a little', choices: ['girl', 'table', 'seven'], label: 0 },
      '{"context": "broken',
      { context: 'She loved to play outside in the', choices: ['park', 'spoon'], label: 0 },
      { context: 'One day she found a big red', choices: ['ball', 'sky'], label: 0 },
    ];
    const text = lines.map((l) => (typeof l === 'string' ? l : JSON.stringify(l))).join('\n');
    await panel.getByLabel('Task file', { exact: true }).setInputFiles({ name: 'tiny.jsonl', mimeType: 'application/jsonl', buffer: Buffer.from(text) });
    await expect.poll(() => panel.locator('.task-file-name').textContent()).toContain('tiny.jsonl');
    await panel.getByLabel('Language label').fill('en');
    await panel.getByLabel('Max items per task').fill('');
    await panel.getByRole('button', { name: 'Score' }).click();
    const row = panel.locator('tr[data-task="jsonl"][data-language="en"]');
    await row.locator('.task-acc').waitFor({ timeout: 120_000 });
    expect(await row.locator('.task-acc').textContent()).toMatch(/^[01]\.\d{3} ± \d\.\d{3}$/);
    expect(await row.locator('td').nth(3).textContent()).toBe('3');
    expect(await row.locator('td').last().textContent()).toBe('1');
    await expect.poll(() => panel.locator('.task-warnings').textContent()).toMatch(/line 2/);
    expect(await panel.locator('[role="alert"]').count(), log()).toBe(0);
    await panel.screenshot({ path: path.join(SCREENSHOT_DIR, 'polyprune-ui-tasks.png') });
  });

  it('shows a task error with its code and stays usable', async () => {
    const { page } = browser;
    const panel = page.locator('.tasks-panel');
    await panel.getByLabel('Task file', { exact: true }).setInputFiles({ name: 'empty.jsonl', mimeType: 'application/jsonl', buffer: Buffer.from('\n') });
    await expect.poll(() => panel.locator('.task-file-name').textContent()).toContain('empty.jsonl');
    await panel.getByRole('button', { name: 'Score' }).click();
    const alert = panel.locator('[role="alert"]');
    await alert.waitFor({ timeout: 30_000 });
    expect(await alert.getAttribute('data-code')).toBe('TASK_INVALID');
    expect(await panel.getByRole('button', { name: 'Score' }).isEnabled()).toBe(true);
  });
});

describe('pruning report and download', () => {
  it('shows the report of the pruned model and downloads it as a zip with model.safetensors and pruning.json', async () => {
    const { page } = browser;
    const panel = page.locator('.prune-panel');
    await panel.getByLabel('Method', { exact: true }).selectOption('magnitude');
    await panel.getByRole('button', { name: 'Prune', exact: true }).click();
    const report = panel.getByLabel('Pruning report');
    await report.waitFor({ timeout: 120_000 });
    expect(await report.locator('.prune-report-overall').textContent()).toBe('50.0 %');
    const details = report.locator('details.prune-report-matrices');
    expect(await details.evaluate((d) => (d as HTMLDetailsElement).open)).toBe(false);
    expect(await details.locator('summary').textContent()).toBe('Sparsity per matrix (35)');
    const name = (await report.locator('h3').textContent())!;
    const [download] = await Promise.all([page.waitForEvent('download', { timeout: 60_000 }), report.getByRole('button', { name: 'Download pruned model' }).click()]);
    expect(download.suggestedFilename()).toBe(`${name}.zip`);
    const file = path.join(work.dir, 'download.zip');
    await download.saveAs(file);
    const entries = unzipSync(new Uint8Array(await readFile(file)));
    expect(Object.keys(entries)).toEqual(expect.arrayContaining(['config.json', 'model.safetensors', 'pruning.json']));
    const record = JSON.parse(new TextDecoder().decode(entries['pruning.json']));
    expect(JSON.stringify(record)).toContain('magnitude');
    await expect.poll(() => panel.locator('.message-info').last().textContent()).toContain(`Saved ${name}.zip`);
    await details.locator('summary').click();
    await panel.screenshot({ path: path.join(SCREENSHOT_DIR, 'polyprune-ui-prune-report.png') });
    await page.screenshot({ path: path.join(SCREENSHOT_DIR, 'polyprune-ui-study.png'), fullPage: true });
    expect(await panel.getByRole('alert').count(), log()).toBe(0);
  });
});

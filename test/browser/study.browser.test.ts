/**
 * The study panels of the built app (dist/) in headless Chromium with SwiftShader WebGPU: the Tasks
 * panel (bundled UDHR and a dropped JSONL file) and the pruning report with its zip download (the
 * experiment has its own file, experiment.browser.test.ts). Kept small: tiny
 * calibration and evaluation windows.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { unzipSync } from 'fflate';
import { describe, expect, it } from 'vitest';
import type { Browser } from './chromium';
import { type StandInApp, useStandInApp } from './standIn';
import { dropOnPage, openView } from './views';

const SCREENSHOT_DIR = process.env.POLYPRUNE_SCREENSHOTS ?? '/tmp';

let work: StandInApp;
let browser: Browser;

useStandInApp('polyprune-study-', { waitForModel: true }, (s) => void ({ work, browser } = s));

const log = (): string => browser.log.join('\n');

describe('tasks panel', () => {
  it('scores the bundled UDHR task in the model languages (2 items each)', async () => {
    const { page } = browser;
    await openView(page, 'Tasks');
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
    // dropped on the task file's drop zone (the first file was picked with the file input)
    await dropOnPage(page, '.tasks-panel .task-drop', [{ name: 'empty.jsonl', text: '\n' }]);
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
    await openView(page, 'Perplexity & prune');
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

/**
 * Every run is kept in History, not only experiment grids, in the built app (dist/) in headless
 * Chromium (SwiftShader WebGPU), on the stand-in bundled model: a single perplexity measurement, a
 * prune and task scores become result records as they finish, survive a reload, open with the same
 * numbers as the panel showed, and re-run (bundled texts found again by SHA-256) to the same numbers.
 */
import { mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { launchChromium, type Browser } from './chromium';
import { serveStandInApp, type StandInApp } from './standIn';
import { modelLoaded, openView } from './views';
import { parseResultRecord, type ResultRecord } from '../../src/experiment/records';

const SHOTS = path.resolve(process.cwd(), '.tmp/screenshots');

let work: StandInApp;
let browser: Browser;

beforeAll(async () => {
  mkdirSync(SHOTS, { recursive: true });
  work = await serveStandInApp('polyprune-history-runs-');
  browser = await launchChromium({ webgpu: true });
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await work?.close();
});

async function exportedRecords(page: Page): Promise<{ name: string; record: ResultRecord }[]> {
  const download = page.waitForEvent('download');
  await page.locator('.history-panel').getByRole('button', { name: 'Export all' }).click();
  const d = await download;
  const file = JSON.parse(readFileSync((await d.path())!, 'utf8')) as { entries: { name: string; record: unknown }[] };
  return file.entries.map((e) => ({ name: e.name, record: parseResultRecord(e.record) }));
}

const finished = (page: Page) => page.locator('.history-panel .message-info').allTextContents();

describe('History keeps single runs', () => {
  it('a perplexity run appears in History, survives a reload, reopens with the same numbers and re-runs to them', async () => {
    const { page } = browser;
    await page.goto(`${work.server.url}/`);
    await page.getByLabel('Model architecture').waitFor({ timeout: 120_000 });
    await openView(page, 'Perplexity & prune');
    const ppl = page.locator('section.ppl-panel');
    await ppl.getByLabel('Evaluation language').selectOption('en');
    await ppl.getByLabel('Sequence length', { exact: true }).fill('32');
    await ppl.getByLabel('Max windows', { exact: true }).fill('2');
    await ppl.getByRole('button', { name: 'Measure', exact: true }).click();
    const cell = page.locator('.ppl-results tbody tr[data-label="en"] .ppl-value');
    await cell.waitFor({ timeout: 120_000 });
    const shown = await cell.textContent();
    await openView(page, 'History');
    const rows = page.locator('.history-table tbody tr');
    await expect.poll(() => rows.count(), { timeout: 30_000 }).toBe(1);
    expect(await rows.nth(0).locator('td').nth(1).textContent()).toBe('perplexity');
    expect(await rows.nth(0).locator('.history-headline').textContent()).toBe(`ppl ${shown} on en`);

    await page.reload();
    await expect.poll(() => rows.count(), { timeout: 60_000 }).toBe(1);
    await rows.nth(0).getByRole('button', { name: 'Open' }).click();
    const view = page.locator('.history-view .rec-table .ppl-value');
    expect(await view.textContent()).toBe(shown);
    const [first] = await exportedRecords(page);
    expect(first.record.kind).toBe('perplexity');
    if (first.record.kind !== 'perplexity') return;
    expect(first.record.text).toMatchObject({ name: 'eval/en.txt', language: 'en' });
    expect(first.record.settings).toEqual({ seqlen: 32, stride: null, maxWindows: 2 });
    expect(Number(await view.getAttribute('data-value'))).toBe(first.record.result.ppl);

    // Re-run: the bundled text is found by its hash; the same model, the same windows, the same number.
    await modelLoaded(page, 120_000);
    await rows.nth(0).getByRole('button', { name: 'Re-run' }).click();
    const setup = page.getByRole('region', { name: 'Re-run' });
    await expect.poll(() => setup.textContent()).toContain('Every text it needs is here');
    expect(await setup.textContent()).toContain('the same perplexity measurement');
    await setup.getByRole('button', { name: 'Start re-run' }).click();
    // The re-run shows its progress in the Perplexity panel; its record lands in History.
    await page.locator('section.ppl-panel').waitFor();
    await openView(page, 'History');
    await expect.poll(() => finished(page), { timeout: 120_000 }).toContainEqual(expect.stringContaining('Finished: saved to History'));
    await expect.poll(() => rows.count()).toBe(2);
    const both = await exportedRecords(page);
    const again = both.find((e) => e.name.startsWith('Re-run of'))!.record;
    expect(again.kind === 'perplexity' && again.result).toEqual(first.record.result);
    await page.locator('.history-panel').screenshot({ path: path.join(SHOTS, 'history-runs-perplexity.png') });
    expect(await page.locator('[role="alert"]').count(), browser.log.join('\n')).toBe(0);
  });

  it('a prune run is kept with its settings and calibration; its report opens; re-run prunes the same', async () => {
    const { page } = browser;
    // The calibration window length is the Perplexity panel's (the reload reset it).
    await openView(page, 'Perplexity & prune');
    await page.locator('section.ppl-panel').getByLabel('Sequence length', { exact: true }).fill('32');
    const prune = page.locator('section.prune-panel');
    await prune.getByLabel('Calibration text').selectOption('en');
    await prune.getByLabel('Calibration windows').fill('4');
    await prune.getByRole('button', { name: 'Prune', exact: true }).click();
    await prune.getByLabel('Pruning report').waitFor({ timeout: 180_000 });
    await openView(page, 'History');
    const rows = page.locator('.history-table tbody tr');
    await expect.poll(() => rows.count(), { timeout: 180_000 }).toBe(3);
    const entry = rows.filter({ has: page.locator('td', { hasText: /^prune$/ }) });
    expect(await entry.count()).toBe(1);
    expect(await entry.locator('td').nth(5).textContent()).toBe('en');
    await entry.getByRole('button', { name: 'Open' }).click();
    const view = page.locator('.history-view[data-entry] .rec-view[data-kind="prune"]');
    await view.waitFor();
    // Layers x matrices, as the record has them.
    expect(await view.locator('table[aria-label="Sparsity per matrix"] tbody tr').count()).toBe(5);
    expect(await view.locator('table[aria-label="Sparsity per matrix"] tbody td').count()).toBe(5 * 7);

    await entry.getByRole('button', { name: 'Re-run' }).click();
    const setup = page.getByRole('region', { name: 'Re-run' });
    await expect.poll(() => setup.textContent()).toContain('Every text it needs is here');
    await setup.getByRole('button', { name: 'Start re-run' }).click();
    await page.locator('section.prune-panel').waitFor();
    await openView(page, 'History');
    await expect.poll(() => rows.count(), { timeout: 180_000 }).toBe(4);
    const all = await exportedRecords(page);
    const prunes = all.filter((e) => e.record.kind === 'prune').map((e) => e.record);
    expect(prunes).toHaveLength(2);
    const [a, b] = prunes;
    if (a.kind !== 'prune' || b.kind !== 'prune') return;
    expect(a.spec).toEqual(b.spec);
    expect(a.spec).toMatchObject({ method: 'wanda', sparsity: 0.5, nsamples: 4, seqlen: 32, seed: 0 });
    expect(a.calibration).toEqual(b.calibration);
    expect(a.calibration[0]).toMatchObject({ name: 'calib/en.txt', language: 'en' });
    expect(a.sparsity).toEqual(b.sparsity);
    expect(a.overall).toBe(b.overall);
    await page.locator('.history-panel').screenshot({ path: path.join(SHOTS, 'history-runs-prune.png') });
    expect(await page.locator('[role="alert"]').count(), browser.log.join('\n')).toBe(0);
  });

  it('task scores are kept per model and language, open beside another run, and re-run on the pruned copy they were scored on', async () => {
    const { page } = browser;
    const rows = page.locator('.history-table tbody tr');
    const tasks = page.locator('section.tasks-panel');
    // The active model is the pruned copy; UDHR in the model's languages (de, en), two items each.
    await openView(page, 'Tasks');
    await tasks.getByLabel('Max items per task').fill('2');
    await tasks.getByRole('button', { name: 'Score', exact: true }).click();
    const accEn = page.locator('.task-results tr[data-language="en"] .task-acc');
    await expect.poll(() => page.locator('.task-results tr .task-acc').count(), { timeout: 180_000 }).toBe(2);
    const panelAcc = await accEn.textContent();
    await openView(page, 'History');
    await expect.poll(() => rows.count(), { timeout: 180_000 }).toBe(6);
    const taskRows = rows.filter({ has: page.locator('td', { hasText: /^task$/ }) });
    expect(await taskRows.count()).toBe(2);
    const en = taskRows.filter({ hasText: 'udhr en on polyprune-ml-wanda' });
    expect(await en.locator('.history-headline').textContent()).toBe(`acc ${(Number(panelAcc!.split(' ')[0]) * 100).toFixed(0)} % (2 items)`);
    await en.getByRole('button', { name: 'Open' }).click();
    // Opened beside the prune report shown before: compare side by side.
    expect(await page.locator('.history-compare-2 .history-view').count()).toBe(2);
    expect(await page.locator('.history-view .rec-view[data-kind="task"] .task-acc').textContent()).toBe(panelAcc);

    await en.getByRole('button', { name: 'Re-run' }).click();
    const setup = page.getByRole('region', { name: 'Re-run' });
    await expect.poll(() => setup.textContent()).toContain('Every text it needs is here');
    await setup.getByRole('button', { name: 'Start re-run' }).click();
    await tasks.waitFor();
    await openView(page, 'History');
    await expect.poll(() => rows.count(), { timeout: 180_000 }).toBe(7);
    const all = await exportedRecords(page);
    const scored = all.flatMap((e) => (e.record.kind === 'task' && e.record.result.language === 'en' ? [e.record] : []));
    expect(scored).toHaveLength(2);
    expect(scored[0].model.sha256).toBe(scored[1].model.sha256);
    expect(scored[0].file).toEqual(scored[1].file);
    expect(scored[0].result).toEqual(scored[1].result);
    await page.locator('.history-panel').screenshot({ path: path.join(SHOTS, 'history-runs-task.png') });
    expect(await page.locator('[role="alert"]').count(), browser.log.join('\n')).toBe(0);
  });
});

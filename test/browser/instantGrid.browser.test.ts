/**
 * The Experiment panel's "Instant rows" (built app, headless Chromium, SwiftShader WebGPU): one
 * calibration pass for both calibration sources (the engine's counters), each row's masks mixed from
 * it, and the results saying so. Tiny: the stories260K stand-in, 2 windows of 32 tokens, 1 evaluation window.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ExperimentRecord } from '../../src/experiment/records';
import type { Browser } from './chromium';
import { useStandInApp } from './standIn';
import { experimentSizes, openExperimentSettings, openView, runExperiment, screenshotDir, uncheckBundledTasks } from './views';

const SCREENSHOT_DIR = screenshotDir();

let browser: Browser;

useStandInApp('polyprune-instant-grid-', { waitForModel: true }, (s) => void ({ browser } = s));

describe('Experiment panel: instant rows', () => {
  it('the checkbox runs an instant grid: one calibration pass for both sources, the table shows the mode', async () => {
    const { page } = browser;
    const counters = () => page.evaluate(() => window.polyprune!.engine.counters());
    const panel = page.locator('section.exp-panel');
    await expect.poll(() => panel.getByRole('list', { name: 'Calibration sources' }).locator('li').count(), { timeout: 30_000 }).toBe(2);
    const s = panel.locator('details.exp-settings');
    await openExperimentSettings(panel);
    await panel.getByLabel('Pruning method').selectOption('wanda');
    await experimentSizes(panel, { windows: 2, seqlen: 32, evalWindows: 1, items: 1 });
    await uncheckBundledTasks(panel);
    await panel.getByRole('checkbox', { name: 'UDHR sentence continuation (bundled)' }).uncheck();
    await panel.getByRole('checkbox', { name: 'Instant rows' }).check();
    expect(await s.locator('summary').textContent()).toMatch(/, instant rows/);
    expect(await panel.locator('.row.actions .hint').textContent()).toMatch(/^1 calibration pass, 2 mask updates of /);
    const c0 = await counters();
    await runExperiment(panel, () => browser.log.join('\n'));
    // one pass over the 5 layers for both rows; no sequential prune
    const c1 = await counters();
    expect(c1.calibrationRuns - c0.calibrationRuns).toBe(1);
    expect(c1.calibrationForwards - c0.calibrationForwards).toBe(5);
    expect(await panel.locator('.exp-facts .exp-instant').textContent()).toMatch(/Instant rows: one calibration pass per seed .* ms per mask update on average\./);
    const table = panel.locator('details.exp-table');
    await table.locator('summary').click();
    const rows = table.getByRole('table', { name: 'Every number of the experiment' }).locator('tbody tr');
    // dense + 2 rows, 2 languages, perplexity and bits per byte
    expect(await rows.count()).toBe(3 * 2 * 2);
    const masks = await rows.locator('td:nth-child(2)').allTextContents();
    expect(masks.filter((m) => m === 'instant')).toHaveLength(8);
    expect(masks.filter((m) => m === 'dense')).toHaveLength(4);
    // the result record says it too
    const download = page.waitForEvent('download');
    await table.getByRole('button', { name: 'Download the result record (JSON)' }).click();
    const rec = JSON.parse(readFileSync((await (await download).path())!, 'utf8')) as ExperimentRecord;
    expect(rec.spec.instant).toBe(true);
    expect(rec.rows.map((r) => [r.mix?.mode ?? null, r.mix?.windows ?? null])).toEqual([
      [null, null],
      ['instant', [2]],
      ['instant', [2]],
    ]);
    expect(rec.rows[1].mix!.updateMs![0]).toBeGreaterThan(0);
    await panel.screenshot({ path: path.join(SCREENSHOT_DIR, 'polyprune-ui-instant-grid.png') });
  });

  it('with Confirm, each row is followed by its exact prune: the per-layer IoU is shown, layer 0 is 1', async () => {
    const { page } = browser;
    const counters = () => page.evaluate(() => window.polyprune!.engine.counters());
    const panel = page.locator('section.exp-panel');
    await panel.getByRole('checkbox', { name: 'Confirm: also the exact prune of each row' }).check();
    expect(await panel.locator('details.exp-settings summary').textContent()).toMatch(/, instant rows \+ exact/);
    expect(await panel.locator('.row.actions .hint').textContent()).toMatch(/^1 calibration pass, 2 mask updates and 2 exact prunes of .*, 10 perplexity measurements\./);
    const c0 = await counters();
    await runExperiment(panel, () => browser.log.join('\n'));
    // one collection and one sequential prune per exact row
    expect((await counters()).calibrationRuns - c0.calibrationRuns).toBe(3);
    const iou = await panel.locator('.exp-instant-iou').allTextContents();
    expect(iou).toHaveLength(2);
    for (const t of iou) expect(t).toMatch(/^bundled (de|en) \(exact\): mask IoU with the instant masks per layer 1\.000( 0\.\d{3}| 1\.000){4}\.\s*$/);
    const table = panel.locator('details.exp-table');
    if (!(await table.getAttribute('open'))) await table.locator('summary').click();
    const masks = await table.getByRole('table', { name: 'Every number of the experiment' }).locator('tbody tr td:nth-child(2)').allTextContents();
    expect(masks.filter((m) => m === 'exact')).toHaveLength(8);
    expect(masks.filter((m) => m === 'instant')).toHaveLength(8);
    await panel.screenshot({ path: path.join(SCREENSHOT_DIR, 'polyprune-ui-instant-grid-confirm.png') });

    // History says how each run was made: in the list, in the provenance and on each instant row.
    await openView(page, 'History');
    const hist = page.locator('.history-panel');
    const entries = hist.locator('.history-table tbody tr');
    await expect.poll(() => entries.count(), { timeout: 30_000 }).toBe(2);
    expect((await entries.locator('td:nth-child(4)').allTextContents()).sort()).toEqual(['wanda (instant rows + exact rows)', 'wanda (instant rows)']);
    expect(new Set(await hist.locator('.history-name').allTextContents()).size).toBe(2);
    await entries.filter({ hasText: 'wanda (instant rows)' }).filter({ hasNotText: 'exact' }).getByRole('button', { name: 'Open' }).click();
    const view = hist.locator('.history-view');
    expect((await view.locator('table.exp-heatmap[data-metric="ppl"] .exp-row-mode').allTextContents()).map((t) => t.trim())).toEqual(['instant', 'instant']);
    expect(await view.locator('[data-field="masks"]').textContent()).toMatch(/^instant rows: one calibration pass per seed/);
    expect(await view.locator('[data-field="settings"]').textContent()).not.toMatch(/items per task/); // no task in this run
    await hist.screenshot({ path: path.join(SCREENSHOT_DIR, 'polyprune-ui-instant-grid-history.png') });
  });
});

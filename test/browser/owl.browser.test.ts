/**
 * OWL layer-wise sparsity from the page (built app, headless Chromium, SwiftShader WebGPU): the Prune
 * panel's layer-wise setting, the refusal of OWL with 2:4, and the prune report's per-layer
 * sparsity chart and table; then RIA 2:4 from the same panel. Tiny: the stories260K stand-in, 2 calibration windows of 32 tokens.
 */
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Browser } from './chromium';
import { useStandInApp } from './standIn';
import { experimentSizes, openExperimentSettings, openView, runExperiment, screenshotDir, uncheckBundledTasks } from './views';

const SCREENSHOT_DIR = screenshotDir();

let browser: Browser;

useStandInApp('polyprune-owl-', { waitForModel: true }, (s) => void ({ browser } = s));

describe('OWL in the Prune panel', () => {
  it('refuses OWL with 2:4, then prunes with OWL and draws the sparsity of every layer', async () => {
    const { page } = browser;
    await openView(page, 'Perplexity & prune');
    const panel = page.locator('.prune-panel');
    await page.locator('.ppl-sizes').getByLabel('Sequence length').fill('32');
    await panel.getByLabel('Calibration windows').fill('2');
    await panel.getByLabel('Method', { exact: true }).selectOption('wanda');
    await panel.getByLabel('Prune: layer-wise sparsity').selectOption('owl');
    expect(await panel.getByLabel('Prune: OWL outlier threshold M').inputValue()).toBe('5');
    expect(await panel.getByLabel('Prune: OWL lambda').inputValue()).toBe('0.08');
    // the select is disabled for 2:4, and the rule is also enforced on run
    await panel.getByRole('radio', { name: '2:4 semi-structured' }).check();
    expect(await panel.getByLabel('Prune: layer-wise sparsity').isDisabled()).toBe(true);
    await panel.getByRole('button', { name: 'Prune', exact: true }).click();
    await expect.poll(() => panel.getByRole('alert').last().textContent(), { timeout: 30_000 }).toMatch(/one N:M pattern \(2:4\) cannot express/);
    await panel.getByRole('radio', { name: 'unstructured' }).check();
    await panel.getByRole('button', { name: 'Prune', exact: true }).click();
    const report = panel.getByLabel('Pruning report');
    await report.locator('.prune-report-owl').waitFor({ timeout: 120_000 });
    expect(await report.locator('.prune-report-owl').textContent()).toMatch(/^OWL, M 5, λ 0.08: \d+\.\d % to \d+\.\d %$/);
    const chart = report.getByRole('figure', { name: 'Sparsity per layer' });
    await chart.locator('.recharts-line').first().waitFor({ timeout: 30_000 });
    expect(await chart.locator('.recharts-line').count()).toBe(2); // reached, OWL target
    expect(await chart.locator('.recharts-line-dot').count()).toBe(10); // 5 layers each
    const layers = report.locator('details.prune-report-layers');
    await layers.locator('summary').click();
    expect(await layers.locator('tbody tr').count()).toBe(5);
    const targets = (await layers.locator('tbody tr td:nth-child(3)').allTextContents()).map((t) => parseFloat(t));
    expect(Math.max(...targets) - Math.min(...targets)).toBeCloseTo(16, 1);
    expect(targets.reduce((a, b) => a + b, 0) / 5).toBeCloseTo(50, 1);
    await panel.screenshot({ path: path.join(SCREENSHOT_DIR, 'polyprune-ui-owl-report.png') });

    // RIA (Zhang et al. 2024) is one of the page's methods (both panels): 2:4 of the dense model from the same panel.
    await openView(page, 'Experiment');
    expect(await page.locator('section.exp-panel').getByLabel('Pruning method').locator('option[value="ria"]').count()).toBe(1);
    // click, then wait for the controlled radio's re-render (check() reads the state right after the click and can see the old one)
    const dense = page.locator('.model-list input[name="active-model"]').first();
    await dense.click();
    await expect.poll(() => dense.isChecked(), { timeout: 10_000 }).toBe(true);
    await openView(page, 'Perplexity & prune');
    await panel.getByLabel('Method', { exact: true }).selectOption('ria');
    expect(await panel.locator('#prune-method-about').textContent()).toMatch(/relative importance/);
    await panel.getByLabel('Prune: layer-wise sparsity').selectOption('uniform');
    await panel.getByRole('radio', { name: '2:4 semi-structured' }).check();
    await panel.getByRole('button', { name: 'Prune', exact: true }).click();
    await expect.poll(() => report.locator('.prune-report-facts dd').first().textContent(), { timeout: 120_000 }).toBe('ria, 2:4');
    expect(await report.locator('.prune-report-overall').textContent()).toBe('50.0 %');
    await panel.screenshot({ path: path.join(SCREENSHOT_DIR, 'polyprune-ui-ria-report.png') });
    // back to OWL in the Prune panel: the next test finds it chosen in the Experiment panel (one setting for both)
    await panel.getByRole('radio', { name: 'unstructured' }).check();
    await panel.getByLabel('Prune: layer-wise sparsity').selectOption('owl');
  });

  it('the Experiment panel runs wanda-lang with OWL and draws one line of layer sparsities per calibration source', async () => {
    const { page } = browser;
    await openView(page, 'Experiment');
    const panel = page.locator('section.exp-panel');
    await expect.poll(() => panel.getByRole('list', { name: 'Calibration sources' }).locator('li').count(), { timeout: 30_000 }).toBe(2);
    await openExperimentSettings(panel);
    await panel.getByLabel('Pruning method').selectOption('wanda-lang');
    // one setting for both panels: OWL is still chosen from the Prune panel
    expect(await panel.getByLabel('Experiment: layer-wise sparsity').inputValue()).toBe('owl');
    // 50 % here (the panel's default is the bundled model's measured choice, docs/eval-tasks.md)
    await panel.getByLabel('Experiment: fraction of weights to remove').fill('0.5');
    await experimentSizes(panel, { windows: 2, seqlen: 32, evalWindows: 1, items: 1 });
    // One evaluation column and no task: the layer sparsities come from the prunes alone (tasks in an
    // experiment: experiment.browser.test.ts).
    await uncheckBundledTasks(panel);
    await panel.getByRole('checkbox', { name: /UDHR sentence continuation/ }).uncheck();
    await panel.getByRole('button', { name: 'None: Evaluation languages (columns)' }).click();
    await panel.getByRole('group', { name: 'Evaluation languages (columns)' }).getByRole('checkbox', { name: 'de', exact: true }).check();
    await runExperiment(panel, () => browser.log.join('\n'));
    expect(await panel.locator('.exp-facts').textContent()).toMatch(/wanda-lang, 50 % unstructured, OWL layer-wise \(M 5, λ 0.08\)/);
    const chart = panel.locator('.exp-owl').getByRole('figure', { name: 'Sparsity per layer' });
    await chart.locator('.recharts-line').first().waitFor({ timeout: 30_000 });
    expect(await chart.locator('.recharts-line').count()).toBe(2);
    expect(await panel.getByRole('alert').count()).toBe(0);
    await panel.locator('.exp-owl').screenshot({ path: path.join(SCREENSHOT_DIR, 'polyprune-ui-owl-experiment.png') });

    // Kept in History: after a reload the stored record opens with the same chart (one results view for both).
    await page.goto(page.url().replace(/[?#].*$/, '') + '?autoload=0');
    await openView(page, 'History');
    const history = page.locator('.history-panel');
    const entry = history.locator('.history-table tbody tr', { hasText: 'wanda-lang, OWL' });
    await entry.waitFor({ timeout: 60_000 });
    expect(await entry.locator('td').nth(3).textContent()).toBe('wanda-lang, OWL');
    await entry.getByRole('button', { name: 'Open' }).click();
    const stored = history.locator('.history-view .exp-owl').getByRole('figure', { name: 'Sparsity per layer' });
    await stored.locator('.recharts-line').first().waitFor({ timeout: 30_000 });
    expect(await stored.locator('.recharts-line').count()).toBe(2);
    expect(await history.locator('.history-view .exp-facts').textContent()).toMatch(/wanda-lang, 50 % unstructured, OWL layer-wise \(M 5, λ 0.08\)/);
    await history.locator('.history-view').screenshot({ path: path.join(SCREENSHOT_DIR, 'polyprune-ui-owl-history.png') });
  }, 500_000);
});

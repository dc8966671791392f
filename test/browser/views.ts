/**
 * The page's views (Experiment, Perplexity & prune, Mixer, Tasks, History) as a user reaches them:
 * a click on the tab in the "Views" navigation, then the tab is the current page. Also the steps
 * several page tests take: files dropped on the page, the Experiment panel's settings and a run of it,
 * and the folder screenshots go to.
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { Locator, Page } from 'playwright-core';
import { expect } from 'vitest';

export type ViewLabel = 'Experiment' | 'Perplexity & prune' | 'Try it' | 'Mixer' | 'Tasks' | 'History';

export async function openView(page: Page, label: ViewLabel): Promise<void> {
  const tab = page.getByRole('navigation', { name: 'Views' }).getByRole('link', { name: label });
  if ((await tab.getAttribute('aria-current')) === 'page') return;
  await tab.click();
  await page.waitForFunction((l) => [...document.querySelectorAll('nav[aria-label="Views"] a[aria-current="page"]')].some((a) => a.textContent?.startsWith(l)), label);
}

/** Wait until the header's model line shows a loaded model (in any view). */
export async function modelLoaded(page: Page, timeout = 90_000): Promise<void> {
  await page.locator('.model-line[data-state="loaded"]').waitFor({ timeout });
}

/** Where page tests write screenshots (POLYPRUNE_SCREENSHOTS, else .tmp/screenshots, ignored); made if missing. */
export function screenshotDir(): string {
  const dir = process.env.POLYPRUNE_SCREENSHOTS ?? path.resolve(process.cwd(), '.tmp/screenshots');
  mkdirSync(dir, { recursive: true });
  return dir;
}

/** Drop files on the element `target` (a selector outside every drop zone), as a user dragging from the desktop. */
export async function dropOnPage(page: Page, target: string, files: { name: string; text?: string; bytes?: number[] }[]): Promise<void> {
  const dt = await page.evaluateHandle((fs) => {
    const d = new DataTransfer();
    for (const f of fs) d.items.add(new File([f.bytes ? new Uint8Array(f.bytes) : (f.text ?? '')], f.name, { type: 'text/plain' }));
    return d;
  }, files);
  await page.dispatchEvent(target, 'dragover', { dataTransfer: dt });
  await page.dispatchEvent(target, 'drop', { dataTransfer: dt });
}

/** Open the Experiment panel's settings (a <details>: its open attribute is '' when open, null when closed). */
export async function openExperimentSettings(panel: Locator): Promise<void> {
  const s = panel.locator('details.exp-settings');
  if ((await s.getAttribute('open')) === null) await s.locator('summary').click();
}

/** The Experiment panel's sizes for a small run: windows per source, window length, evaluation windows, task items. */
export async function experimentSizes(panel: Locator, p: { windows: number; seqlen: number; evalWindows: number; items: number }): Promise<void> {
  await openExperimentSettings(panel);
  await panel.getByLabel('Windows per calibration source').fill(String(p.windows));
  await panel.getByLabel('Window length (tokens)').fill(String(p.seqlen));
  await panel.getByLabel('Evaluation windows per language').fill(String(p.evalWindows));
  await panel.getByLabel('Task items per cell').fill(String(p.items));
}

/** Uncheck the bundled tasks a build with data/tasks/index.json offers (absent in other builds). */
export async function uncheckBundledTasks(panel: Locator): Promise<void> {
  const more = panel.getByRole('checkbox', { name: /^Bundled tasks:/ });
  if (await more.count()) await more.uncheck();
}

/**
 * Click "Run experiment" and wait for the run to end, which must be 'done' (the failure message holds
 * the panel's alerts and `log()`). An earlier run's status shows until this one starts: wait for the start first.
 */
export async function runExperiment(panel: Locator, log: () => string, timeout = 400_000): Promise<void> {
  const status = () => panel.locator('.exp-status').getAttribute('data-status');
  await panel.getByRole('button', { name: 'Run experiment' }).click();
  await expect.poll(status, { timeout: 120_000, interval: 100 }).toBe('running');
  await expect.poll(status, { timeout }).not.toBe('running');
  expect(await status(), `${(await panel.getByRole('alert').allTextContents()).join(' | ')}\n${log()}`).toBe('done');
}

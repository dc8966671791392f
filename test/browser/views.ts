/**
 * The page's views (Experiment, Perplexity & prune, Mixer, Tasks, History) as a user reaches them:
 * a click on the tab in the "Views" navigation, then the tab is the current page.
 */
import type { Page } from 'playwright-core';

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

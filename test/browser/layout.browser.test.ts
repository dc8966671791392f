/**
 * The page as a researcher first sees it (issue 18, "Layout and state"), in headless Chromium on the
 * stories260K stand-in: at 1400 x 1000 the header (model line, adapter) and the study with "Run
 * experiment" on the first screen, reached in few Tab presses; the other views as tabs that keep the
 * URL (back/forward, reload, other parameters kept); every control named; a good and a bad file dropped
 * anywhere get their notices in one place; the study's sources and settings survive a reload; the
 * Prune panel lists one entry per calibration text; and a phone (390 x 844) reads without sideways
 * scrolling. Screenshots: .tmp/screenshots/layout-*.png.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { expect, it } from 'vitest';
import type { Browser } from './chromium';
import { useStandInApp, type StandInApp } from './standIn';
import { dropOnPage, modelLoaded, openView, screenshotDir } from './views';
import { sharedPath } from '../helpers/shared';

const SHOTS = screenshotDir();

let browser: Browser;
let work: StandInApp;
let page: Page;
useStandInApp('polyprune-layout-', { waitForModel: false }, (s) => void ({ browser, work } = s, (page = s.browser.page)));

const log = (): string => browser.log.join('\n');
const shot = (name: string) => page.screenshot({ path: path.join(SHOTS, `layout-${name}.png`) });
const exp = () => page.locator('section.exp-panel');
const appNotices = () => page.locator('.app > .messages');

/** Controls without an accessible name in the page's accessibility tree (Playwright's ARIA snapshot). */
async function unnamedControls(): Promise<string[]> {
  const snap = await page.locator('body').ariaSnapshot();
  return snap.split('\n').filter((l) => /^\s*- (button|link|textbox|combobox|checkbox|radio|spinbutton|slider|listbox|searchbox)( \[[^\]]*\])?:?\s*$/.test(l));
}

it('puts the model line and the study on the first screen at 1400 x 1000, a few Tab presses from the top', async () => {
  await page.setViewportSize({ width: 1400, height: 1000 });
  await page.goto(`${work.server.url}/?test=1`);
  await modelLoaded(page);
  await expect.poll(() => exp().getByRole('list', { name: 'Calibration sources' }).locator('li').count()).toBe(2);
  expect(await page.locator('.model-line').textContent()).toContain('polyprune-ml');
  expect(await page.locator('section.gpu-status').getAttribute('data-state')).toBe('ready');
  const run = exp().getByRole('button', { name: 'Run experiment' });
  const box = (await run.boundingBox())!;
  expect(box.y + box.height).toBeLessThanOrEqual(1000);
  await shot('1400-study');
  // Keyboard: from the top of the page to "Run experiment".
  await page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
  let presses = 0;
  while (presses < 60 && !(await run.evaluate((b) => b === document.activeElement))) {
    await page.keyboard.press('Tab');
    presses++;
  }
  console.log(`"Run experiment" is ${presses} Tab presses from the top at 1400 x 1000`);
  expect(presses).toBeLessThan(40);
  expect(await unnamedControls()).toEqual([]);
  expect(await page.getByRole('alert').count(), log()).toBe(0);
});

it('shows the other views as tabs that keep the URL: back, forward, reload and other parameters', async () => {
  for (const [label, heading, query] of [
    ['Perplexity & prune', 'Perplexity', 'measure'],
    ['Mixer', 'Calibration mixer', 'mixer'],
    ['Tasks', 'Tasks', 'tasks'],
    ['History', 'History', 'history'],
  ] as const) {
    await openView(page, label);
    expect(new URL(page.url()).searchParams.get('view')).toBe(query);
    expect(new URL(page.url()).searchParams.get('test')).toBe('1');
    await page.getByRole('heading', { name: heading, exact: true }).waitFor();
    expect(await exp().count()).toBe(0);
    expect(await unnamedControls(), label).toEqual([]);
    await shot(`1400-${query}`);
  }
  await page.goBack();
  await page.getByRole('heading', { name: 'Tasks', exact: true }).waitFor();
  await page.goBack();
  await page.getByRole('heading', { name: 'Calibration mixer', exact: true }).waitFor();
  await page.goForward();
  await page.getByRole('heading', { name: 'Tasks', exact: true }).waitFor();
  // A reload (and a link) opens the view it names; ?autoload=0 still keeps the model from loading.
  await page.goto(`${work.server.url}/?autoload=0&view=history&test=1`);
  await page.getByRole('heading', { name: 'History', exact: true }).waitFor();
  await page.waitForTimeout(1500);
  expect(await page.locator('.model-line').getAttribute('data-state')).toBe('none');
  await openView(page, 'Experiment');
  expect(new URL(page.url()).searchParams.get('view')).toBeNull();
  expect(new URL(page.url()).searchParams.get('autoload')).toBe('0');
});

it('gives a good and a bad file dropped anywhere their notices in the same place; reload restores the sources and settings', async () => {
  await page.goto(`${work.server.url}/?test=1`);
  await modelLoaded(page);
  await expect.poll(() => exp().getByRole('list', { name: 'Calibration sources' }).locator('li').count()).toBe(2);
  // 12 KB of real German prose: identified clearly (no "not clearly" hint).
  const german = readFileSync(sharedPath('data/text/debian-handbook/de-DE.txt'), 'utf8').slice(50_000, 62_000);
  await openView(page, 'Mixer'); // dropped in another view: the notice is still at the top
  await dropOnPage(page, 'main', [{ name: 'handbuch-de.txt', text: german }]);
  await expect.poll(() => appNotices().getByRole('status').allTextContents()).toEqual(expect.arrayContaining([expect.stringMatching(/Added 'handbuch-de\.txt' \(de\)/)]));
  await dropOnPage(page, 'main', [{ name: 'archive.txt', bytes: [0x50, 0x4b, 0x03, 0x04, 0x14, 0, 0, 0, 0x08, 0, 0x21, 0x0a] }]);
  await expect.poll(() => appNotices().getByRole('alert').allTextContents()).toEqual([expect.stringMatching(/'archive\.txt' is a ZIP archive/)]);
  // Model files that do not load: why, in the same place (the Model panel has it too).
  await dropOnPage(page, 'main', [{ name: 'config.json', text: '{"model_type": "llama"' }]);
  await expect.poll(() => appNotices().getByRole('alert').count(), { timeout: 30_000 }).toBe(2);
  expect(await appNotices().getByRole('status').allTextContents()).toEqual(expect.arrayContaining([expect.stringMatching(/loading it as a model/)]));
  await shot('1400-drop-notices');
  const dismiss = appNotices().getByRole('button', { name: 'Dismiss message' });
  while ((await dismiss.count()) > 0) await dismiss.first().click();
  await openView(page, 'Experiment');
  const item = exp().locator('li[data-source="handbuch-de.txt"]');
  expect(await exp().getByLabel('Language of handbuch-de.txt').inputValue()).toBe('de');
  expect(await item.locator('.exp-source-unsure').count()).toBe(0);
  // Settings: sparsity and windows.
  const s = exp().locator('details.exp-settings');
  if (!(await s.getAttribute('open'))) await s.locator('summary').click();
  await exp().getByLabel('Experiment: fraction of weights to remove').fill('0.6');
  await exp().getByLabel('Windows per calibration source').fill('7');
  await exp().getByRole('checkbox', { name: 'Use bundled en' }).uncheck();
  await page.waitForTimeout(1000); // the save is debounced
  await page.reload();
  await modelLoaded(page);
  await expect.poll(() => exp().getByRole('list', { name: 'Calibration sources' }).locator('li').count()).toBe(3);
  expect(await exp().getByLabel('Language of handbuch-de.txt').inputValue()).toBe('de');
  await expect.poll(() => item.textContent()).toMatch(/[\d,]+ tokens/);
  expect(await exp().getByRole('checkbox', { name: 'Use bundled en' }).isChecked()).toBe(false);
  if (!(await s.getAttribute('open'))) await s.locator('summary').click();
  expect(await exp().getByLabel('Experiment: fraction of weights to remove').inputValue()).toBe('0.6');
  expect(await exp().getByLabel('Windows per calibration source').inputValue()).toBe('7');
  // A stored text that no longer matches its hash is left out, with a notice; the rest is restored.
  await page.evaluate(
    () =>
      new Promise<void>((resolve, reject) => {
        const r = indexedDB.open('polyprune-study');
        r.onerror = () => reject(r.error);
        r.onsuccess = () => {
          const tx = r.result.transaction('texts', 'readwrite');
          const st = tx.objectStore('texts');
          const all = st.getAll();
          all.onsuccess = () => {
            const t = (all.result as { sha256: string; text: string }[]).find((x) => x.text.length > 10_000)!;
            st.put({ sha256: t.sha256, text: t.text.replace('Debian', 'Debiaan') });
          };
          tx.oncomplete = () => (r.result.close(), resolve());
          tx.onerror = () => reject(tx.error);
        };
      }),
  );
  await page.reload();
  await modelLoaded(page);
  await expect.poll(() => exp().getByRole('status').allTextContents()).toEqual(expect.arrayContaining([expect.stringMatching(/Not restored from your last visit .*'handbuch-de\.txt'/)]));
  expect(await exp().getByRole('list', { name: 'Calibration sources' }).locator('li').count()).toBe(2);
  await exp().getByLabel('Calibration files').setInputFiles({ name: 'handbuch-de.txt', mimeType: 'text/plain', buffer: Buffer.from(german) });
  await expect.poll(() => exp().getByRole('list', { name: 'Calibration sources' }).locator('li').count()).toBe(3);
  await page.waitForTimeout(1000);
  await page.reload();
  await modelLoaded(page);
  await expect.poll(() => exp().getByRole('list', { name: 'Calibration sources' }).locator('li').count()).toBe(3);
  expect(await exp().getByRole('status').allTextContents()).not.toEqual(expect.arrayContaining([expect.stringMatching(/Not restored/)]));
  // The Prune panel lists each calibration text once: the bundled languages, then the dropped file.
  await openView(page, 'Perplexity & prune');
  const options = await page.locator('section.prune-panel').getByLabel('Calibration text').locator('option').allTextContents();
  expect(options).toEqual(['de', 'en', 'handbuch-de.txt (de)']);
  expect(await page.getByRole('alert').count(), log()).toBe(0);
});

it('reads on a phone (390 x 844): no sideways scrolling, the tabs and the study reachable', async () => {
  await page.setViewportSize({ width: 390, height: 844 });
  await openView(page, 'Experiment');
  await page.waitForTimeout(300);
  const wide = () => page.evaluate(() => document.documentElement.scrollWidth);
  // what sticks out, named (tag#id.class and its right edge), for the message
  const sticking = () =>
    page.evaluate(() =>
      [...document.querySelectorAll('body *')]
        .filter((e) => e.getBoundingClientRect().right > 391 && e.getBoundingClientRect().width > 0)
        .slice(0, 8)
        .map((e) => `${e.tagName.toLowerCase()}${e.id ? `#${e.id}` : ''}${typeof e.className === 'string' && e.className ? `.${e.className.split(' ').join('.')}` : ''} right ${Math.round(e.getBoundingClientRect().right)}`)
        .join('; '),
    );
  expect(await wide(), await sticking()).toBeLessThanOrEqual(390);
  await shot('390-study');
  await page.screenshot({ path: path.join(SHOTS, 'layout-390-study-full.png'), fullPage: true });
  for (const [label, name] of [
    ['Perplexity & prune', 'measure'],
    ['Mixer', 'mixer'],
    ['History', 'history'],
  ] as const) {
    await openView(page, label);
    expect(await wide(), `${label}: ${await sticking()}`).toBeLessThanOrEqual(390);
    await shot(`390-${name}`);
  }
  expect(await unnamedControls()).toEqual([]);
});

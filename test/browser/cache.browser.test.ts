/**
 * The browser cache of downloaded weights in the built app (Chromium): a model loaded by URL a second
 * time reads no weights from the server; the Model panel shows what is cached and clears it. Then, on
 * the same page with those models still loaded, a prune through the test hook stays within its plan,
 * which counts what the page holds on the GPU (issue 22: the page's peak was 1.03 x the plan).
 */
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { StaticServer } from '../helpers/httpServer';
import type { Browser } from './chromium';
import { CALIB_TEXT, FIXTURE_DIR, useEnginePage } from './standIn';

const SCREENSHOTS = path.resolve('.tmp');

let server: StaticServer;
let browser: Browser;
useEnginePage({ '/fixtures/stories260K/': FIXTURE_DIR }, '?test=1', (s) => void ({ server, browser } = s));

describe('weight cache (Cache API)', () => {
  it('the second load of a URL model downloads no weights; the panel shows the cache and clears it', async () => {
    const { page } = browser;
    const url = `${server.url}/fixtures/stories260K/`;
    const weightGets = () => server.requests.filter((r) => r.path.endsWith('/model.safetensors') && r.method === 'GET').length;
    await page.getByLabel('Model folder URL').fill(url);
    await page.getByRole('button', { name: 'Load from URL' }).click();
    await expect.poll(() => page.locator('.model-summary h3').textContent(), { timeout: 60_000 }).toContain('stories260K');
    const first = weightGets();
    expect(first).toBeGreaterThan(0);
    await expect.poll(() => page.locator('.weight-cache-size').textContent(), { timeout: 30_000 }).toMatch(/[1-9]/);
    // Load again: every ranged read comes from the cache.
    await page.getByRole('button', { name: 'Load from URL' }).click();
    await expect.poll(() => page.locator('.model-list label').count(), { timeout: 60_000 }).toBe(2);
    expect(weightGets()).toBe(first);
    await page.screenshot({ path: path.join(SCREENSHOTS, 'polyprune-ui-cache.png'), fullPage: true });
    await page.getByRole('button', { name: 'Clear cached downloads' }).click();
    await expect.poll(() => page.locator('.weight-cache-size').textContent(), { timeout: 30_000 }).toMatch(/^0(\.0)? ?B$/);
    const info = await page.evaluate(() => window.polyprune!.engine.cacheInfo());
    expect(info).toMatchObject({ available: true, entries: 0, bytes: 0 });
    expect(await page.locator('.model-panel [role="alert"]').count(), browser.log.join('\n')).toBe(0);
  });

  it('a prune through the hook beside the models the page holds: its plan counts them and the peak stays within it', async () => {
    const r = await browser.page.evaluate(
      async ({ url, text }) => {
        const e = window.polyprune!.engine;
        const loaded = (await e.listModels()).length;
        const plan = await e.plan({ kind: 'url', url }, { method: 'wanda', nsamples: 2, seqlen: 64 });
        const m = await e.loadModel({ kind: 'url', url });
        const p = await e.prune(m.id, { method: 'wanda', sparsity: 0.5, calibration: { texts: [{ name: 'en.txt', text }], nsamples: 2, seqlen: 64, seed: 0 } });
        await e.unloadModel(p.model.id);
        await e.unloadModel(m.id);
        return { loaded, held: plan.gpu.find((i) => i.kind === 'already on the GPU')?.bytes ?? 0, plan: plan.gpuPeakBytes, peak: p.report.peakGpuBytes };
      },
      { url: `${server.url}/fixtures/stories260K/`, text: CALIB_TEXT.en.repeat(2) },
    );
    // the page's two loads of the fixture above (and its bundled model, when it had loaded by itself)
    expect(r.loaded).toBeGreaterThanOrEqual(2);
    expect(r.held).toBeGreaterThan(0);
    expect(r.peak, JSON.stringify(r)).toBeLessThanOrEqual(r.plan);
  });
});

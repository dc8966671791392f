/**
 * The Model panel's Hugging Face access token, on the production build in Chromium against a local
 * imitation of the Hub (test/helpers/fakeHub.ts) holding a gated copy of stories260K: without a
 * token the page says to paste one into the token field, a wrong token is refused, the right one
 * loads the model and is sent to the Hub; it is kept out of the page URL and localStorage unless
 * "Remember in this browser" is ticked, and unticking removes it again.
 */
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStaticServer, type StaticServer } from '../helpers/httpServer';
import { startFakeHub, type FakeHub } from '../helpers/fakeHub';
import { FIXTURE, requireShared } from '../helpers/fixture';
import { launchChromium, type Browser } from './chromium';

const DIST = path.resolve(process.cwd(), 'dist');
const SHOTS = path.resolve(process.cwd(), '.tmp/screenshots');
const GOOD = 'hf_good_7f3a9c';
const KEY = 'polyprune.hfToken';

let server: StaticServer;
let hub: FakeHub;
let browser: Browser;

beforeAll(async () => {
  if (!existsSync(path.join(DIST, 'index.html'))) throw new Error('Build the app first: npm run build (npm test does it before vitest).');
  hub = await startFakeHub({ 'polyprune/gated': { dir: requireShared(FIXTURE), token: GOOD } });
  server = await startStaticServer({ '/': DIST });
  mkdirSync(SHOTS, { recursive: true });
  browser = await launchChromium({ webgpu: true });
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
  await hub?.close();
});

const page = () => browser.page;
const modelPanel = () => page().locator('section.model-panel');
const diag = (): string => (browser.log.length ? `\nbrowser log:\n${browser.log.join('\n')}` : '');
const open = async () => {
  await page().goto(`${server.url}/?autoload=0&hfEndpoint=${encodeURIComponent(hub.url)}`);
  await page().getByRole('heading', { name: 'Model' }).waitFor({ timeout: 60_000 });
};
const stored = () => page().evaluate(() => JSON.stringify({ ...localStorage }));

async function loadGated(): Promise<void> {
  const dismiss = page().getByRole('button', { name: 'Dismiss message' });
  while ((await dismiss.count()) > 0) await dismiss.first().click();
  await page().locator('#model-url').fill('polyprune/gated');
  await page().getByRole('button', { name: 'Load from URL' }).click();
}

async function alertText(code: string): Promise<string> {
  const alert = modelPanel().locator(`[role=alert][data-code="${code}"]`).last();
  await alert.waitFor({ timeout: 60_000 });
  return (await alert.textContent()) ?? '';
}

describe('Hugging Face access token in the Model panel (Chromium, production build, fake Hub)', () => {
  it('a gated model: refused without a token (pointing at the field), refused with a wrong one, loaded with the right one', { timeout: 300_000 }, async () => {
    await open();
    const field = page().locator('#hf-token');
    expect(await field.getAttribute('type')).toBe('password');

    await loadGated();
    const none = await alertText('FETCH_FAILED');
    expect(none, diag()).toContain('polyprune/gated is gated or private (HTTP 401)');
    expect(none).toContain('paste an access token into the page\'s "Hugging Face access token" field');

    await field.fill('hf_wrong');
    await loadGated();
    expect(await alertText('FETCH_FAILED'), diag()).toContain('this token has no access (HTTP 403)');

    await field.fill(GOOD);
    await loadGated();
    await modelPanel().locator('.model-summary').first().waitFor({ timeout: 180_000 });
    expect(await modelPanel().textContent(), diag()).toContain('polyprune/gated@main (Hugging Face Hub)');
    const reads = hub.requests.filter((r) => r.method !== 'OPTIONS' && r.path.startsWith('/polyprune/gated/'));
    expect(reads.filter((r) => r.auth === `Bearer ${GOOD}`).map((r) => r.path)).toEqual(expect.arrayContaining(['/polyprune/gated/resolve/main/config.json', '/polyprune/gated/resolve/main/model.safetensors']));
    await page().screenshot({ path: path.join(SHOTS, 'hub-token-loaded.png'), fullPage: true });

    // Not remembered: nowhere but the field (and the tab's memory).
    expect(await stored()).not.toContain(GOOD);
    expect(page().url()).not.toContain(GOOD);
    expect(await page().locator('body').textContent()).not.toContain(GOOD);
    await open();
    expect(await field.inputValue()).toBe('');
  });

  it('"Remember in this browser" keeps the token in localStorage across reloads until unticked', { timeout: 120_000 }, async () => {
    await open();
    const field = page().locator('#hf-token');
    const remember = page().getByRole('checkbox', { name: 'Remember in this browser' });
    expect(await remember.isDisabled()).toBe(true); // nothing to remember yet
    await field.fill(GOOD);
    await remember.check();
    expect(JSON.parse(await stored())[KEY]).toBe(GOOD);
    expect(await modelPanel().textContent()).toContain("stored in this browser’s localStorage");
    await page().screenshot({ path: path.join(SHOTS, 'hub-token-remembered.png'), fullPage: true });

    await open();
    expect(await field.inputValue()).toBe(GOOD);
    expect(await remember.isChecked()).toBe(true);
    // A remembered token is used without typing it again.
    await loadGated();
    await modelPanel().locator('.model-summary').first().waitFor({ timeout: 180_000 });

    await remember.uncheck();
    expect(JSON.parse(await stored())[KEY]).toBeUndefined();
    await open();
    expect(await field.inputValue()).toBe('');
    expect(await remember.isChecked()).toBe(false);
    // Emptying the field forgets a remembered token too.
    await field.fill(GOOD);
    await remember.check();
    await field.fill('');
    expect(JSON.parse(await stored())[KEY]).toBeUndefined();
    expect(await remember.isChecked()).toBe(false);
  });
});

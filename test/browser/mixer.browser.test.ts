/**
 * The Calibration mixer panel of the built app (dist/) in headless Chromium with SwiftShader WebGPU,
 * on the stories260K stand-in for the bundled model (de, en): prune first (the pruned copy becomes the
 * active model), collect once (on the dense model: its "Dense" column is the dense perplexity), move the sliders (range
 * and number), masks and perplexity update with NO calibration forward pass (the engine's counters),
 * and Confirm gives the exact sequential prune (the same perplexity as engine.prune on the same
 * windows) with layer 0 identical to the instant masks; after a reload the statistics kept in IndexedDB
 * are reused without a calibration pass and give the same perplexity. Screenshots go to .tmp/screenshots.
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import type { Browser } from './chromium';
import { CALIB_TEXT, EVAL_TEXT, useStandInApp } from './standIn';
import { modelLoaded, openView } from './views';

const SHOTS = path.resolve(process.cwd(), '.tmp/screenshots');

let browser: Browser;
let page: Page;

mkdirSync(SHOTS, { recursive: true });
useStandInApp('polyprune-mixer-', {}, (s) => {
  ({ browser } = s);
  page = browser.page;
});

const log = (): string => browser.log.join('\n');
const panel = () => page.locator('section.mixer-panel');
const shot = (name: string) => page.screenshot({ path: path.join(SHOTS, `mixer-${name}.png`), fullPage: true });
const counters = () => page.evaluate(() => window.polyprune!.engine.counters());
/** The mixer's own evaluation settings (not the Perplexity panel's): 4 windows per source, 2 evaluation windows of 32 tokens. */
const mixerSettings = async (): Promise<void> => {
  await panel().getByLabel('Windows per source').fill('4');
  await panel().getByLabel('Tokens per window').fill('32');
  await panel().getByLabel('Evaluation windows').fill('2');
  expect(await panel().getByTestId('mixer-eval').innerText()).toMatch(/2 windows x 32 tokens per evaluation language/);
};
const instantPpl = async (): Promise<string[]> => [await panel().locator('td[data-lang="de"]').innerText(), await panel().locator('td[data-lang="en"]').innerText()];

describe('calibration mixer in Chromium', () => {
  it('sliders re-mask and re-measure without a calibration forward; Confirm is the exact sequential prune', async () => {
    await modelLoaded(page);
    // Prune first (the pruned copy becomes the active model): the mixer still collects on the dense model.
    await openView(page, 'Perplexity & prune');
    const prune = page.locator('.prune-panel');
    await prune.getByLabel('Method', { exact: true }).selectOption('magnitude');
    await prune.getByRole('button', { name: 'Prune', exact: true }).click();
    await prune.getByLabel('Pruning report').waitFor({ timeout: 120_000 });
    await openView(page, 'Mixer');
    await mixerSettings();
    await expect.poll(() => panel().getByTestId('mixer-base').innerText()).toMatch(/collected on the dense model \S+, not on the active pruned model/);
    const c0 = await counters();
    // Every progress text the panel shows during the collection (it must move inside a layer and after the pass).
    await page.evaluate(() => {
      const seen: string[] = ((window as unknown as { seenProgress: string[] }).seenProgress = []);
      new MutationObserver(() => {
        const t = document.querySelector('section.mixer-panel .op-progress')?.textContent ?? '';
        if (t && seen[seen.length - 1] !== t) seen.push(t);
      }).observe(document.body, { subtree: true, childList: true, characterData: true });
    });
    await panel().getByRole('button', { name: 'Collect statistics' }).click();
    await expect.poll(() => panel().locator('td[data-lang="en"]').count(), { timeout: 120_000 }).toBe(1);
    await expect.poll(async () => (await instantPpl()).every((t) => /^\d/.test(t)), { timeout: 120_000 }).toBe(true);
    const c1 = await counters();
    expect(c1.calibrationRuns, log()).toBe(c0.calibrationRuns + 1);
    const seen = await page.evaluate(() => (window as unknown as { seenProgress: string[] }).seenProgress);
    expect(seen.some((t) => /Layer \d+ of 5 \(forward\): windows \(\d+\/40\)/.test(t)), seen.join('\n')).toBe(true);
    expect(seen.some((t) => /Dense model: perplexity (de|en), windows \(\d+\/2\)/.test(t)), seen.join('\n')).toBe(true);
    expect(await panel().getByTestId('mixer-stats').innerText()).toMatch(/4 de \+ 4 en windows of 32 tokens on \S+ \(dense\)/);
    // The "Dense" column is the dense model's perplexity (2 windows x 32 tokens), not the pruned copy's.
    const [denseDe, prunedDe] = await page.evaluate(async (text) => {
      const engine = window.polyprune!.engine;
      const models = await engine.listModels();
      const ppl = async (id: string) => (await engine.perplexity(id, { text, seqlen: 32, maxWindows: 2, language: 'de' })).ppl;
      return [await ppl(models.find((m) => !m.prunedFrom)!.id), await ppl(models.find((m) => m.prunedFrom)!.id)];
    }, EVAL_TEXT.de);
    const denseCell = await panel().locator('table[data-testid="mixer-ppl"] tbody tr').nth(0).locator('td').nth(0).innerText();
    expect(denseCell).toBe(denseDe.toFixed(3));
    expect(denseCell).not.toBe(prunedDe.toFixed(3));
    const first = await instantPpl();

    // the range slider: de to 0.9 -> en follows to 0.1; masks and perplexity change
    await panel().getByRole('slider', { name: 'de' }).fill('0.9');
    await expect.poll(() => panel().getByLabel('weight of en').inputValue()).toBe('0.1');
    await expect.poll(async () => (await instantPpl()).join(), { timeout: 60_000 }).not.toBe(first.join());
    await expect.poll(() => panel().getByTestId('mixer-timing').innerText(), { timeout: 60_000 }).toMatch(/Last update: masks \d+ ms, with perplexity \d+ ms/);
    const second = await instantPpl();
    // the number field: en to 1 (de follows to 0)
    await panel().getByLabel('weight of en').fill('1');
    await expect.poll(() => panel().getByLabel('weight of de').inputValue()).toBe('0');
    await expect.poll(async () => (await instantPpl()).join(), { timeout: 60_000 }).not.toBe(second.join());
    await shot('instant');
    // no calibration pass and no layer forward over calibration text since the collection
    expect(await counters()).toEqual(c1);
    const timing = await panel().getByTestId('mixer-timing').innerText();
    console.log(`mixer in Chromium (SwiftShader, stories260K): ${timing}`);

    // Confirm with en = 1: the exact sequential prune on the 4 en windows
    await panel().getByRole('button', { name: 'Confirm (exact sequential prune)' }).click();
    await panel().getByTestId('mixer-confirm').waitFor({ timeout: 180_000 });
    expect(await panel().getByTestId('mixer-confirm').innerText()).toMatch(/the sequential prune on 0 de \+ 4 en windows/);
    const c2 = await counters();
    expect(c2.calibrationRuns).toBe(c1.calibrationRuns + 1);
    const iouRows = panel().locator('table.mixer-iou tbody tr');
    expect(await iouRows.count()).toBe(5);
    expect(await iouRows.nth(0).locator('td').first().innerText()).toBe('1.0000');
    const exactEn = await panel().locator('table[data-testid="mixer-ppl"] tbody tr').nth(1).locator('td').nth(3).innerText();
    await shot('confirm');
    // the same prune through the engine API: en text, 4 windows of 32, seed 0
    const direct = await page.evaluate(
      async ({ calib, text }) => {
        const engine = window.polyprune!.engine;
        const base = (await engine.listModels())[0];
        const r = await engine.prune(base.id, { method: 'wanda', sparsity: 0.5, calibration: { texts: [{ name: 'en', text: calib, language: 'en' }], nsamples: 4, seqlen: 32, seed: 0 } });
        const p = await engine.perplexity(r.model.id, { text, seqlen: 32, maxWindows: 2, language: 'en' });
        await engine.unloadModel(r.model.id);
        return p.ppl;
      },
      { calib: CALIB_TEXT.en, text: EVAL_TEXT.en },
    );
    expect(exactEn).toBe(direct.toFixed(3));
    // collecting again replaces the statistics and their mixer model: the dense model, the magnitude prune and one mixer model
    await panel().getByRole('button', { name: 'Collect again' }).click();
    await expect.poll(() => counters().then((c) => c.calibrationRuns), { timeout: 120_000 }).toBe(c2.calibrationRuns + 2);
    await expect.poll(async () => (await instantPpl()).every((t) => /^\d/.test(t)), { timeout: 120_000 }).toBe(true);
    await expect.poll(() => page.evaluate(async () => (await window.polyprune!.engine.listModels()).length), { timeout: 60_000 }).toBe(3);
    expect(await page.getByRole('alert').count(), log()).toBe(0);
    const beforeReload = await instantPpl();

    // the statistics were kept in IndexedDB: after a reload the mixer reuses them without a calibration pass
    await page.reload();
    await modelLoaded(page);
    await openView(page, 'Mixer');
    await mixerSettings();
    const reuse = panel().getByRole('button', { name: 'Reuse stored statistics: 4 de + 4 en windows of 32 tokens' });
    await reuse.waitFor({ timeout: 60_000 });
    expect(await reuse.count()).toBe(1);
    await reuse.click();
    await expect.poll(async () => (await instantPpl()).every((t) => /^\d/.test(t)), { timeout: 120_000 }).toBe(true);
    expect(await panel().getByTestId('mixer-stats').innerText()).toMatch(/4 de \+ 4 en windows.*loaded from the browser's storage.*no calibration pass/);
    expect(await counters()).toEqual({ calibrationRuns: 0, calibrationForwards: 0 });
    expect(await panel().getByLabel('weight of de').inputValue()).toBe('0.5');
    expect(await instantPpl()).toEqual(beforeReload);
    await shot('reused');
    expect(await page.getByRole('alert').count(), log()).toBe(0);

    // the user's own calibration file (Experiment panel) is a mixer source too
    await openView(page, 'Experiment');
    await page.getByLabel('Calibration files').setInputFiles({ name: 'mine-en.txt', mimeType: 'text/plain', buffer: Buffer.from(CALIB_TEXT.en.split('').reverse().join('')) });
    await openView(page, 'Mixer');
    const mine = panel().getByRole('checkbox', { name: /mine-en\.txt/ });
    await mine.waitFor({ timeout: 30_000 });
    await mine.check();
    await panel().getByRole('group', { name: /^Bundled calibration languages to mix/ }).getByRole('checkbox', { name: 'en' }).uncheck();
    await panel().getByRole('button', { name: 'Collect again' }).click();
    const statsText = () => panel().getByTestId('mixer-stats').innerText({ timeout: 1000 }).catch(() => '');
    const collected = await expect.poll(statsText, { timeout: 180_000 }).toMatch(/4 de \+ 4 mine-en\.txt windows.*collected in/).then(() => true, () => false);
    expect(collected, `${await panel().innerText()}\n${log()}`).toBe(true);
    await expect.poll(async () => (await instantPpl()).every((t) => /^\d/.test(t)), { timeout: 120_000 }).toBe(true);
    expect(await panel().getByRole('slider', { name: 'mine-en.txt' }).count()).toBe(1);
    expect((await counters()).calibrationRuns).toBe(1);
    await shot('own-source');
    expect(await page.getByRole('alert').count(), log()).toBe(0);

    // keep this mix as the active model: History keeps its prune record with `mix`; the next slider move makes a new model
    await panel().getByRole('button', { name: 'Make this mix the active model' }).click();
    await expect.poll(() => panel().locator('.message-info').allTextContents(), { timeout: 30_000 }).toContainEqual(expect.stringContaining('the active model'));
    type Rec = { kind: string; mix?: unknown; calibration: { name: string; weight?: number }[] };
    const records = () =>
      page.evaluate(
        () =>
          new Promise<Rec[]>((resolve, reject) => {
            const r = indexedDB.open('polyprune');
            r.onerror = () => reject(r.error);
            r.onsuccess = () => {
              const q = r.result.transaction('runs').objectStore('runs').getAll();
              q.onerror = () => reject(q.error);
              q.onsuccess = () => resolve(q.result.map((e: { record: Rec }) => e.record));
            };
          }),
      );
    await expect.poll(async () => (await records()).filter((r) => r.kind === 'prune' && r.mix).length, { timeout: 30_000 }).toBe(1);
    const kept = (await records()).find((r) => r.kind === 'prune' && r.mix)!;
    expect(kept).toMatchObject({ mix: { mode: 'instant', weights: [0.5, 0.5], windows: [4, 4] }, calibration: [{ name: 'de', weight: 0.5 }, { name: 'mine-en.txt', weight: 0.5 }] });
    const mixModels = () => page.evaluate(async () => (await window.polyprune!.engine.listModels()).filter((m) => m.name.endsWith('-mix')).map((m) => m.id));
    const [keptId] = await mixModels();
    await panel().getByLabel('weight of de').fill('0.8');
    await expect.poll(async () => (await mixModels()).length, { timeout: 120_000 }).toBe(2);
    const keptMix = await page.evaluate(async (id) => {
      const files = await window.polyprune!.engine.exportModel(id);
      return JSON.parse(new TextDecoder().decode(files.find((f) => f.name === 'pruning.json')!.data)).mix;
    }, keptId);
    expect(keptMix).toMatchObject({ mode: 'instant', weights: [0.5, 0.5] });
    expect(await page.getByRole('alert').count(), log()).toBe(0);
  });

  it('SparseGPT: the Hessians\' size is shown before collecting; a slider move re-prunes without a calibration forward', async () => {
    await modelLoaded(page);
    await openView(page, 'Mixer');
    await mixerSettings();
    await panel().getByLabel('Mixer method').selectOption('sparsegpt');
    // 2 sources x 5 layers x (3 x 64^2 + 172^2) floats of stories260K
    await expect.poll(() => panel().getByTestId('mixer-size').innerText()).toMatch(/SparseGPT\), 2 sources x 5 layers x 4 Hessians: 1\.6 MiB on the GPU/);
    const c0 = await counters();
    await panel().getByRole('button', { name: /^Collect (statistics|again)$/ }).click();
    const statsText = () => panel().getByTestId('mixer-stats').innerText({ timeout: 1000 }).catch(() => '');
    await expect.poll(statsText, { timeout: 180_000 }).toMatch(/^Hessians \(SparseGPT, GPTQ\) of 4 de \+ 4 \S+ windows of 32 tokens on \S+ \(dense\), 1\.60 MiB on the GPU, collected in/);
    await expect.poll(async () => (await instantPpl()).every((t) => /^\d/.test(t)), { timeout: 180_000 }).toBe(true);
    await expect.poll(() => panel().getByTestId('mixer-timing').innerText(), { timeout: 120_000 }).toMatch(/SparseGPT solve \d+ ms/);
    const c1 = await counters();
    expect(c1.calibrationRuns).toBe(c0.calibrationRuns + 1);
    const first = await instantPpl();
    await panel().getByLabel('weight of de').fill('1');
    await expect.poll(async () => (await instantPpl()).join(), { timeout: 120_000 }).not.toBe(first.join());
    expect(await counters()).toEqual(c1);
    console.log(`SparseGPT mixer in Chromium (SwiftShader, stories260K): ${await panel().getByTestId('mixer-timing').innerText()}`);
    await shot('sparsegpt');
    expect(await page.getByRole('alert').count(), log()).toBe(0);

    // ---- GPTQ (gptqmix, issue 23): the same Hessians serve GPTQ; the method switch and a slider move run no calibration forward ----
    await panel().getByLabel('Mixer method').selectOption('gptq');
    expect(await panel().getByLabel('Mixer bits').inputValue()).toBe('4');
    await expect.poll(() => panel().getByTestId('mixer-timing').innerText(), { timeout: 180_000 }).toMatch(/^Last update: GPTQ 4-bit g128 \d+ ms.*restore and GPTQ solve \d+ ms/);
    const g1 = await instantPpl();
    expect(g1.every((t) => /^\d/.test(t))).toBe(true);
    await panel().getByLabel('weight of de').fill('0.5');
    await expect.poll(async () => (await instantPpl()).join(), { timeout: 180_000 }).not.toBe(g1.join());
    await expect.poll(() => panel().getByTestId('mixer-timing').innerText(), { timeout: 180_000 }).toMatch(/^Last update: GPTQ 4-bit/);
    expect(await counters()).toEqual(c1);
    console.log(`GPTQ mixer in Chromium (SwiftShader, stories260K): ${await panel().getByTestId('mixer-timing').innerText()}`);
    await shot('gptq');
    expect(await page.getByRole('alert').count(), log()).toBe(0);
  });
});

/**
 * Results that outlive the tab, in the built app (dist/) in headless Chromium (SwiftShader WebGPU):
 * CLI grid -> `polyprune share` -> link opened in a fresh profile shows the same numbers; re-run of
 * that result, reload in the middle, resume, and the same numbers as an uninterrupted re-run; an
 * Experiment panel run stopped by a lost GPU device: the resume offer at once, then reload and resume; history
 * survives a reload; export then import in another profile gives the same list; and the bad input:
 * damaged / edited / newer / oversized links, HTML in a record's strings, an import file of the wrong
 * shape, storage quota exceeded, a re-run given a file with the wrong hash.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { launchChromium, type Browser } from './chromium';
import { serveStandInApp, type StandInApp } from './standIn';
import { openView } from './views';
import { parseResultRecord, type ExperimentRecord } from '../../src/experiment/records';
import { recordShareLink } from '../../src/experiment/share';
import { sha256Hex } from '../../src/calib/text';

const SHOTS = path.resolve(process.cwd(), '.tmp');
const BIN = path.resolve('bin/polyprune.mjs');

let work: StandInApp;
let cliRecord: ExperimentRecord;
let link: string;
const browsers: Browser[] = [];

/**
 * Cells of the experiment stored for resume (IndexedDB 'polyprune', store 'partial') whose perplexity
 * is saved: what a reload now would resume from (0 while nothing is stored).
 */
function savedCells(page: Page): Promise<number> {
  return page.evaluate(
    () =>
      new Promise<number>((resolve) => {
        const req = indexedDB.open('polyprune');
        req.onerror = () => resolve(0);
        req.onsuccess = () => {
          const db = req.result;
          if (!db.objectStoreNames.contains('partial')) {
            db.close();
            resolve(0);
            return;
          }
          const all = db.transaction('partial').objectStore('partial').getAll();
          all.onerror = () => (db.close(), resolve(0));
          all.onsuccess = () => {
            db.close();
            type Cell = { ppl?: (number | null)[] } | null;
            const run = (all.result as { id: string; data?: { record?: { cells?: Record<string, Record<string, Cell> | Cell[]> | Cell[][] } } }[]).find((x) => !x.id.startsWith('texts:') && x.data?.record);
            const rows = Object.values(run?.data?.record?.cells ?? {}) as (Record<string, Cell> | Cell[])[];
            resolve(rows.flatMap((row) => Object.values(row)).filter((c) => typeof c?.ppl?.[0] === 'number').length);
          };
        };
      }),
  );
}

/** The CLI, asynchronously (it fetches the model from this process's server). */
function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [BIN, ...args]);
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d) => (stdout += d));
    p.stderr.on('data', (d) => (stderr += d));
    p.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

async function browser(): Promise<Browser> {
  const b = await launchChromium({ webgpu: true });
  browsers.push(b);
  return b;
}

beforeAll(async () => {
  if (!existsSync(path.resolve('dist-cli/polyprune.mjs'))) throw new Error('CLI bundle missing: run `npm run build:cli`.');
  mkdirSync(SHOTS, { recursive: true });
  work = await serveStandInApp('polyprune-history-');
  // The experiment headless (lavapipe), on the model the page bundles, with its bundled texts.
  const grid = await cli([
    'grid', '--model', `${work.server.url}/models/polyprune-ml/`, '--data', work.standIn, '--calib-langs', 'de,en', '--eval-langs', 'de,en',
    '--method', 'wanda', '--sparsity', '0.5', '--nsamples', '4', '--seqlen', '32', '--eval-seqlen', '32', '--eval-max-windows', '2', '--json',
  ]);
  if (grid.code !== 0) throw new Error(`polyprune grid failed: ${grid.stderr}`);
  cliRecord = parseResultRecord(grid.stdout) as ExperimentRecord;
  writeFileSync(path.join(work.dir, 'grid.json'), grid.stdout);
  const share = await cli(['share', path.join(work.dir, 'grid.json'), '--base', `${work.server.url}/`]);
  if (share.code !== 0) throw new Error(`polyprune share failed: ${share.stderr}`);
  link = share.stdout.trim();
}, 600_000);

afterAll(async () => {
  for (const b of browsers) await b.close();
  await work?.close();
});

/** data-value of every measured cell of a heatmap, by row id and column. */
async function heatValues(page: Page, scope: string, metric: string): Promise<Record<string, number>> {
  return page.locator(`${scope} table[data-metric="${metric}"] td[data-state="done"]`).evaluateAll((tds) =>
    Object.fromEntries(tds.map((td) => [`${td.closest('tr')!.getAttribute('data-row')}|${td.getAttribute('data-col')}`, Number(td.getAttribute('data-value'))])),
  );
}

function expected(rec: ExperimentRecord, metric: 'ppl' | 'bpb'): Record<string, number> {
  const out: Record<string, number> = {};
  rec.rows.forEach((_, r) => rec.columns.forEach((c, k) => (out[`${r === 0 ? 'dense' : `row${r}`}|${c.language}`] = rec.cells[r][k][metric][0]!)));
  return out;
}

async function modelReady(page: Page): Promise<void> {
  await page.getByLabel('Model architecture').waitFor({ timeout: 120_000 });
}

async function exportedHistory(page: Page): Promise<{ entries: { id: string; name: string; savedAt: string; record: ExperimentRecord }[] }> {
  const download = page.waitForEvent('download');
  await page.locator('.history-panel').getByRole('button', { name: 'Export all' }).click();
  const d = await download;
  return JSON.parse(readFileSync((await d.path())!, 'utf8'));
}

const alertIn = (page: Page, scope: string) => page.locator(`${scope} [role="alert"]`);

let pageA: Page;
let exported: Awaited<ReturnType<typeof exportedHistory>>;

describe('share links, history and resume in the page', () => {
  it('CLI grid -> polyprune share -> the link in a fresh profile shows the same numbers, marked as shared with provenance', async () => {
    expect(link.length).toBeLessThanOrEqual(16 * 1024);
    const a = await browser();
    pageA = a.page;
    await pageA.goto(link);
    const shared = pageA.locator('.history-shared');
    await shared.waitFor({ timeout: 60_000 });
    expect(await shared.locator('.history-badge').textContent()).toBe('Shared result');
    expect(await shared.locator('[data-field="model-sha256"]').getAttribute('title')).toBe(cliRecord.model.sha256);
    expect(await shared.locator('[data-field="model-source"]').textContent()).toBe(cliRecord.model.source);
    expect(await shared.locator('[data-field="tool-version"]').textContent()).toBe(cliRecord.tool.version);
    expect(await shared.locator('[data-field="seeds"]').textContent()).toBe('0');
    expect(await heatValues(pageA, '.history-shared', 'ppl')).toEqual(expected(cliRecord, 'ppl'));
    await shared.getByLabel('Show bits per byte (shared result)').check();
    expect(await heatValues(pageA, '.history-shared', 'bpb')).toEqual(expected(cliRecord, 'bpb'));
    await shared.getByLabel('Show perplexity (shared result)').check();
    await pageA.screenshot({ path: path.join(SHOTS, 'history-shared.png'), fullPage: false });
    expect(await alertIn(pageA, 'body').count(), a.log.join('\n')).toBe(0);
  });

  it('re-runs the shared experiment; a reload in the middle resumes and ends with the same numbers as an uninterrupted re-run', async () => {
    const page = pageA;
    await modelReady(page);
    const shared = page.locator('.history-shared');
    // Uninterrupted re-run: bundled texts are found by their SHA-256, nothing to give.
    await shared.getByRole('button', { name: 'Re-run' }).click();
    const setup = page.getByRole('region', { name: 'Re-run' });
    await expect.poll(() => setup.textContent()).toContain('Every text it needs is here');
    await setup.getByRole('button', { name: 'Start re-run' }).click();
    // It runs in the Experiment panel; its record lands in History.
    await page.locator('section.exp-panel .op-progress').waitFor();
    await openView(page, 'History');
    await expect.poll(() => page.locator('.history-panel .message-info').allTextContents(), { timeout: 300_000 }).toContainEqual(expect.stringContaining('Finished: saved to History'));
    expect(await page.locator('.history-table tbody tr').count()).toBe(1);

    // Again, reloading the page once three cells are saved for resume (stored after each cell: the
    // panel's step counter runs ahead of the store on a loaded machine, so the store is what is waited for).
    await shared.getByRole('button', { name: 'Re-run' }).click();
    await setup.getByRole('button', { name: 'Start re-run' }).click();
    await expect.poll(() => savedCells(page), { timeout: 300_000, interval: 250 }).toBeGreaterThanOrEqual(3);
    await page.reload();
    const offer = page.getByRole('region', { name: 'Interrupted experiment' });
    await offer.waitFor({ timeout: 60_000 });
    expect(await offer.textContent()).toMatch(/Re-run of .* [3-5] of 6 cells measured/);
    await page.screenshot({ path: path.join(SHOTS, 'history-resume-offer.png') });
    await modelReady(page);
    await offer.getByRole('button', { name: 'Resume' }).click();
    // The resumed run is the Experiment panel's, which says what it resumes.
    await expect.poll(() => page.locator('section.exp-panel .message-info').allTextContents(), { timeout: 60_000 }).toContainEqual(expect.stringMatching(/Resuming 'Re-run of .*': [3-5] of 6 cells were measured/));
    await openView(page, 'History');
    await expect.poll(() => page.locator('.history-panel .message-info').allTextContents(), { timeout: 300_000 }).toContainEqual(expect.stringContaining('Finished: saved to History'));
    expect(await offer.count()).toBe(0);

    exported = await exportedHistory(page);
    expect(exported.entries).toHaveLength(2);
    const [resumed, whole] = exported.entries.map((e) => e.record);
    expect(resumed.complete && whole.complete).toBe(true);
    expect(resumed.cells).toEqual(whole.cells);
    expect(resumed.rows.map((r) => r.sparsity)).toEqual(whole.rows.map((r) => r.sparsity));
    // Row 1 was finished before the reload; its mask is re-derived, so the IoU table is the uninterrupted one.
    expect(whole.iou).toHaveLength(1);
    expect(resumed.iou).toEqual(whole.iou);
    // The Experiment panel shows the resumed run as a live one: all cells, the mask IoU table, done.
    await openView(page, 'Experiment');
    expect(await page.locator('section.exp-panel .exp-results .exp-status').getAttribute('data-status')).toBe('done');
    expect(await heatValues(page, 'section.exp-panel .exp-results', 'ppl')).toEqual(expected(resumed, 'ppl'));
    expect(await page.locator('section.exp-panel .exp-results table.exp-mask tbody td').allTextContents()).toEqual(whole.iou[0].v.flat().map((v) => (v === null ? '–' : v.toFixed(2))));
    // SwiftShader in the page and lavapipe in the CLI: the same experiment, float-for-float close.
    cliRecord.cells.forEach((row, r) => row.forEach((c, k) => expect(Math.abs(whole.cells[r][k].ppl[0]! - c.ppl[0]!) / c.ppl[0]!).toBeLessThan(1e-3)));
    // The opened run shows the same numbers as its record.
    await openView(page, 'History');
    expect(await heatValues(page, '.history-view', 'ppl')).toEqual(expected(resumed, 'ppl'));
    await page.screenshot({ path: path.join(SHOTS, 'history-panel.png'), fullPage: true });
  });

  it('history survives a reload; compare shows two runs side by side; export then import in another profile gives the same list', async () => {
    const page = pageA;
    await page.goto(`${work.server.url}/?autoload=0&view=history`);
    await expect.poll(() => page.locator('.history-table tbody tr').count(), { timeout: 60_000 }).toBe(2);
    const names = await page.locator('.history-table .history-name').allTextContents();
    await page.locator('.history-table').getByRole('button', { name: 'Open' }).nth(0).click();
    await page.locator('.history-table').getByRole('button', { name: 'Open' }).nth(0).click();
    expect(await page.locator('.history-compare-2 .history-view').count()).toBe(2);
    // Their difference, cell by cell: the resumed run and the uninterrupted one measured the same numbers.
    const diff = page.getByRole('table', { name: 'Difference of perplexity' });
    expect(await diff.locator('td[data-state="done"]').evaluateAll((tds) => tds.map((td) => Number(td.getAttribute('data-diff'))))).toEqual([0, 0, 0, 0, 0, 0]);
    expect(await diff.locator('td[data-state="done"]').first().getAttribute('aria-label')).toMatch(/^dense, evaluation de, perplexity: ±0 \(.*\), no error estimate$/);
    await page.locator('.history-panel').screenshot({ path: path.join(SHOTS, 'history-compare.png') });
    // Rename one; the name survives a reload.
    await page.locator('.history-table tbody tr').nth(0).getByRole('button', { name: 'Rename' }).click();
    await page.getByLabel('New name').fill('resumed <i>run</i>');
    await page.getByRole('button', { name: 'Save', exact: true }).click();
    // the list shows the new name once it is stored (renameEntry writes, then refreshes): only then reload
    await expect.poll(() => page.locator('.history-table .history-name').allTextContents(), { timeout: 60_000 }).toContain('resumed <i>run</i>');
    await page.reload();
    await expect.poll(() => page.locator('.history-table .history-name').allTextContents(), { timeout: 60_000 }).toEqual(['resumed <i>run</i>', names[1]]);
    const file = path.join(work.dir, 'history.json');
    const before = await exportedHistory(page);
    writeFileSync(file, JSON.stringify(before));

    const b = await browser();
    await b.page.goto(`${work.server.url}/?autoload=0&view=history`);
    await b.page.locator('.history-panel').waitFor();
    expect(await b.page.locator('.history-table').count()).toBe(0);
    await b.page.getByLabel('Import history file').setInputFiles(file);
    await expect.poll(() => b.page.locator('.history-table tbody tr').count(), { timeout: 30_000 }).toBe(2);
    expect((await exportedHistory(b.page)).entries).toEqual(before.entries);
    // Delete needs a second click.
    await b.page.locator('.history-table tbody tr').nth(1).getByRole('button', { name: 'Delete' }).click();
    await b.page.getByRole('button', { name: 'Really delete?' }).click();
    await expect.poll(() => b.page.locator('.history-table tbody tr').count()).toBe(1);
  });

  it('bad input: damaged, edited, newer and oversized links, HTML in a record, a wrong import file, a full quota, a file with the wrong hash', async () => {
    const b = browsers[1] ?? (await browser());
    const page = b.page;
    const base = `${work.server.url}/?autoload=0&view=history`;
    const appAlert = async (): Promise<{ code: string | null; text: string }> => {
      const el = page.locator('.app > .messages [role="alert"]').last();
      await el.waitFor({ timeout: 30_000 });
      return { code: await el.getAttribute('data-code'), text: (await el.locator('.message-text').textContent()) ?? '' };
    };
    const payload = link.slice(link.indexOf('#'));
    const rows = page.locator('.history-table tbody tr');
    await page.goto(base);
    await page.locator('.history-panel').waitFor();
    const n0 = await rows.count();
    await page.goto(`${base}${payload.slice(0, -25)}`);
    expect(await appAlert()).toMatchObject({ code: 'SHARE_INVALID', text: expect.stringContaining('damaged') });
    expect(await page.locator('.history-shared').count()).toBe(0);
    // The page still works: the history list is there and the link below opens.
    expect(await rows.count()).toBe(n0);
    const mid = Math.floor(payload.length / 2);
    await page.goto(`${base}${payload.slice(0, mid)}${payload[mid] === 'A' ? 'B' : 'A'}${payload.slice(mid + 1)}`);
    expect(await appAlert()).toMatchObject({ code: 'SHARE_INVALID' });
    await page.goto(`${base}${payload.replace('#r=1.', '#r=2.')}`);
    expect(await appAlert()).toMatchObject({ code: 'SHARE_NEWER', text: expect.stringContaining('newer PolyPrune') });
    await page.goto(`${base}#r=1.${'A'.repeat(17000)}`);
    expect(await appAlert()).toMatchObject({ code: 'SHARE_TOO_LARGE' });
    // Impossible values in a well-formed record (a perplexity below 1): validated by range on read,
    // refused with the page's one-line message, nothing drawn.
    const impossible = structuredClone(cliRecord);
    impossible.cells[1][0].ppl[0] = -5;
    await page.goto(recordShareLink(impossible, base).link);
    expect(await appAlert()).toMatchObject({ code: 'SHARE_INVALID', text: expect.stringMatching(/cells\.1\.0\.ppl\.0.*a perplexity is at least 1/) });
    expect(await page.locator('.history-shared').count()).toBe(0);

    await page.goto(`${base}${payload}`);
    await page.locator('.history-shared').waitFor();
    expect(await page.locator('.app > .messages [role="alert"]').count()).toBe(0);

    // Strings of a record are text, never HTML.
    const evil = structuredClone(cliRecord);
    evil.model.name = '<img src=x onerror="window.__xss=1">';
    evil.rows[1].label = '<script>window.__xss=2</script>';
    evil.adapter = '<b id="bold">bold</b>';
    await page.goto(recordShareLink(evil, base).link);
    await expect.poll(() => page.locator('.history-shared [data-field="model-name"]').textContent()).toBe(evil.model.name);
    expect(await page.locator('.history-shared [data-field="adapter"]').textContent()).toBe('<b id="bold">bold</b>');
    expect(await page.locator('.history-shared').textContent()).toContain('<script>window.__xss=2</script>');
    expect(await page.locator('.history-shared img, .history-shared script, #bold').count()).toBe(0);
    expect(await page.evaluate(() => (window as { __xss?: number }).__xss)).toBeUndefined();

    // An import file of the wrong shape: refused, nothing changes.
    await page.getByLabel('Import history file').setInputFiles({ name: 'bad.json', mimeType: 'application/json', buffer: Buffer.from(JSON.stringify({ format: 'polyprune-history', version: 1, entries: [{ id: 'x', name: 'x', savedAt: 'now', record: { format: 'polyprune-result' } }] })) });
    const histAlert = page.locator('.history-panel [role="alert"]');
    await histAlert.waitFor();
    expect(await histAlert.getAttribute('data-code')).toBe('HISTORY_INVALID');
    expect(await rows.count()).toBe(n0);

    // Storage quota exceeded, simulated: every IndexedDB write fails the way a full origin fails. A clear message, nothing lost.
    await page.evaluate(() => {
      IDBObjectStore.prototype.put = function () {
        throw new DOMException('The quota has been exceeded.', 'QuotaExceededError');
      };
    });
    await page.locator('.history-shared').getByRole('button', { name: 'Save to History' }).click();
    await expect.poll(() => histAlert.getAttribute('data-code'), { timeout: 30_000 }).toBe('STORAGE_FULL');
    expect(await histAlert.textContent()).toMatch(/full.*Everything saved before is kept/);
    await page.reload();
    await expect.poll(() => rows.count(), { timeout: 30_000 }).toBe(n0);

    // A re-run that needs a file the app does not bundle: named by name, size and SHA-256; a file with another hash is refused.
    const mine = 'My own calibration text, which is not part of the app. '.repeat(20);
    const other = structuredClone(cliRecord);
    other.rows[1].sources = [{ name: 'mine.txt', language: 'en', bytes: Buffer.byteLength(mine), sha256: await sha256Hex(new TextEncoder().encode(mine)) }];
    other.rows[1].label = 'mine.txt';
    await page.goto(recordShareLink(other, base).link);
    await page.locator('.history-shared').getByRole('button', { name: 'Re-run' }).click();
    const setup = page.getByRole('region', { name: 'Re-run' });
    await setup.locator('table.history-needed').waitFor();
    expect(await setup.locator('table.history-needed tbody tr').evaluateAll((rs) => rs.map((r) => r.getAttribute('data-sha256')))).toEqual([other.rows[1].sources[0].sha256]);
    expect(await setup.locator('table.history-needed').textContent()).toContain('mine.txt');
    await page.getByLabel('Files for the re-run').setInputFiles({ name: 'mine.txt', mimeType: 'text/plain', buffer: Buffer.from(mine.replace('own', 'OWN')) });
    await histAlert.waitFor();
    expect(await histAlert.getAttribute('data-code')).toBe('HASH_MISMATCH');
    expect(await setup.getByRole('button', { name: 'Start re-run' }).isDisabled()).toBe(true);
    await page.getByLabel('Files for the re-run').setInputFiles({ name: 'renamed.txt', mimeType: 'text/plain', buffer: Buffer.from(mine) });
    await expect.poll(() => setup.textContent()).toContain('Every text it needs is here');
    expect(await setup.getByRole('button', { name: 'Start re-run' }).isDisabled()).toBe(false);
    await page.screenshot({ path: path.join(SHOTS, 'history-rerun-files.png') });
  });
  it('an experiment of the Experiment panel stopped by a lost GPU device is offered for resume at once; after a reload it resumes, finishes and lands in History', async () => {
    const b = await browser();
    const page = b.page;
    // Fault injection (as a driver reset would do it): the engine's GPU device is destroyed after 300
    // submits. Loading the stand-in model takes about 50, the whole experiment about 800 (the CLI grid
    // of the same settings in beforeAll: 731 without the task items), so the loss comes mid-run.
    await page.goto(`${work.server.url}/?loseDeviceAfterSubmits=300`);
    await modelReady(page);
    const panel = page.locator('section.exp-panel');
    await expect.poll(() => panel.getByRole('list', { name: 'Calibration sources' }).locator('li').count(), { timeout: 60_000 }).toBe(2);
    const s = panel.locator('details.exp-settings');
    if (!(await s.getAttribute('open'))) await s.locator('summary').click();
    await panel.getByLabel('Windows per calibration source').fill('4');
    await panel.getByLabel('Window length (tokens)').fill('32');
    await panel.getByLabel('Evaluation windows per language').fill('2');
    await panel.getByLabel('Task items per cell').fill('2');
    // The stand-in model's tokenizer has no BOS/EOS, so it cannot score the bundled minimal pairs
    // (empty contexts need a prefix token); UDHR alone keeps the task axis.
    const bundledTasks = panel.getByRole('checkbox', { name: /^Bundled tasks/ });
    if (await bundledTasks.count()) await bundledTasks.uncheck();
    await panel.getByRole('button', { name: 'Run experiment' }).click();
    // The run stops with the engine's message, the measured cells stay, and the resume offer shows
    // without a reload (never a hang: the lost device ends every pending GPU wait).
    const offer = page.getByRole('region', { name: 'Interrupted experiment' });
    await offer.waitFor({ timeout: 300_000 });
    const [, done, total] = /, (\d+) of (\d+) cells measured/.exec((await offer.textContent()) ?? '') ?? [];
    expect(Number(done), (await offer.textContent()) ?? '').toBeGreaterThanOrEqual(1);
    expect(Number(done)).toBeLessThan(Number(total));
    await expect.poll(() => alertIn(page, 'section.exp-panel').allTextContents(), { timeout: 60_000 }).toContainEqual(expect.stringMatching(/Stopped by an error: The GPU device was lost \(destroyed.*the page: reload the page, where an interrupted experiment is offered for resume/));
    await page.screenshot({ path: path.join(SHOTS, 'history-device-lost.png'), fullPage: true });
    // A reload (without the fault) starts a new device; the offer stays and resumes the missing cells.
    await page.goto(`${work.server.url}/`);
    await offer.waitFor({ timeout: 60_000 });
    expect(await offer.textContent()).toMatch(new RegExp(`Experiment .* on polyprune-ml, ${done} of ${total} cells measured`));
    await modelReady(page);
    await offer.getByRole('button', { name: 'Resume' }).click();
    await page.locator('section.exp-panel .op-progress').waitFor();
    await openView(page, 'History');
    await expect.poll(() => page.locator('.history-panel .message-info').allTextContents(), { timeout: 400_000 }).toContainEqual(expect.stringContaining('Finished: saved to History'));
    const h = await exportedHistory(page);
    expect(h.entries).toHaveLength(1);
    const rec = h.entries[0].record;
    expect(rec.complete).toBe(true);
    expect(rec.rows.map((r) => r.label)).toHaveLength(3);
    for (const row of rec.cells) for (const c of row) expect(c.ppl.every((x) => x !== null && x > 1)).toBe(true);
    expect(rec.iou).toHaveLength(1);
    expect(rec.iou[0].v.flat().every((x) => x !== null && x > 0 && x <= 1)).toBe(true);
    await openView(page, 'Experiment');
    expect(await heatValues(page, 'section.exp-panel .exp-results', 'ppl')).toEqual(expected(rec, 'ppl'));
    expect(await page.locator('section.exp-panel .exp-results table.exp-mask').count()).toBe(1);
    await page.screenshot({ path: path.join(SHOTS, 'history-experiment-resumed.png'), fullPage: true });
  });
});

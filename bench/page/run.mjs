// `npm run bench:spill-page`: serves dist-bench-page/ on 127.0.0.1 and opens it in headless Chromium
// (the flags of test/browser/chromium.ts, a fresh profile), then prints what the page measured
// (bench/page/main.ts). BENCH_SPILL_MIB sets the bytes (default 1024).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { launchChromium, serve } from '../../tools/size-ladder/page.mjs';

const mib = Number(process.env.BENCH_SPILL_MIB ?? 1024);
const server = await serve({ '/': 'dist-bench-page' });
const profile = mkdtempSync(join(tmpdir(), 'polyprune-bench-page-'));
const browser = await launchChromium(profile);
let failed = false;
try {
  const page = await browser.newPage();
  await page.goto(`${server.url}/?mib=${mib}`);
  await page.waitForFunction(() => window.spillResult !== undefined, null, { timeout: 600_000 });
  const r = await page.evaluate(() => window.spillResult);
  if (r.error) {
    console.error(`bench:spill-page: ${r.error}`);
    failed = true;
  } else for (const line of r.lines) console.log(line);
} finally {
  await browser.close();
  await server.close();
  rmSync(profile, { recursive: true, force: true });
}
process.exit(failed ? 1 : 0);

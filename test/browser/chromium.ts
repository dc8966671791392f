/**
 * Headless Chromium with a WebGPU adapter, for browser tests. Uses the system Chromium
 * (Debian package `chromium`, /usr/bin/chromium); playwright's own browser downloads are never used.
 *
 * `--enable-unsafe-webgpu` is what gives headless Chromium on Linux its WebGPU adapter (SwiftShader,
 * Vulkan on the CPU). Without it `requestAdapter()` returns null ("No available adapters.").
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type ConsoleMessage, type Page } from 'playwright-core';

export const CHROMIUM = process.env.POLYPRUNE_CHROMIUM ?? '/usr/bin/chromium';

const BASE_ARGS = [
  '--no-sandbox',
  '--disable-gpu-sandbox',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export const WEBGPU_ARGS = ['--enable-unsafe-webgpu'];

export interface Browser {
  context: BrowserContext;
  page: Page;
  /** Console errors and uncaught page errors so far, for failure messages. */
  log: string[];
  close(): Promise<void>;
}

/** A fresh persistent context (empty profile in a temp dir) and its first page. */
export async function launchChromium(opts: { webgpu: boolean }): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`Chromium not found at ${CHROMIUM}. Install the Debian package 'chromium' (apt-get install chromium) or set POLYPRUNE_CHROMIUM.`);
  }
  const profile = await mkdtemp(join(tmpdir(), 'polyprune-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1280, height: 900 },
    args: [...BASE_ARGS, ...(opts.webgpu ? WEBGPU_ARGS : [])],
  });
  const page = context.pages()[0] ?? (await context.newPage());
  const log: string[] = [];
  page.on('console', (m: ConsoleMessage) => {
    if (m.type() === 'error' || m.type() === 'warning') log.push(`console.${m.type()}: ${m.text()}`);
  });
  page.on('pageerror', (e) => log.push(`pageerror: ${e.message}`));
  return {
    context,
    page,
    log,
    async close() {
      await context.close().catch(() => undefined);
      await rm(profile, { recursive: true, force: true });
    },
  };
}

/** Chromium (WebGPU) on `url`, a page of the app opened with ?test=1, once its test hook holds the worker engine. */
export async function openWithEngine(url: string): Promise<Browser> {
  const b = await launchChromium({ webgpu: true });
  try {
    await b.page.goto(url);
    await b.page.waitForFunction(() => window.polyprune?.engine !== undefined, undefined, { timeout: 30_000 });
  } catch (e) {
    await b.close();
    throw e;
  }
  return b;
}

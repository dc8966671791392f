/**
 * A stand-in for the bundled model folder (models/polyprune-ml/): the stories260K fixture plus a
 * split.json with two languages and their calibration and evaluation texts, so the UI tests do not
 * depend on the trained default model. Serve it in place of dist/models/polyprune-ml/.
 */
import { copyFileSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { startStaticServer, type StaticServer, type StaticServerOptions } from '../helpers/httpServer';
import { tempDir } from '../helpers/shared';
import { afterAll, beforeAll } from 'vitest';
import { launchChromium, openWithEngine, type Browser } from './chromium';

export const FIXTURE_DIR = path.resolve(process.cwd(), '../shared/fixtures/stories260K');

export const EVAL_TEXT: Record<string, string> = {
  en: 'Once upon a time, there was a little girl named Lily. She loved to play outside in the park with her friends. One day she found a big red ball under a tree. '.repeat(3),
  de: 'Es war einmal ein kleines Mädchen namens Lily. Sie spielte gern mit ihren Freunden draußen im Park. Eines Tages fand sie einen großen roten Ball unter einem Baum. '.repeat(3),
};

export const CALIB_TEXT: Record<string, string> = {
  en: 'Tom had a small dog called Max. Every morning they went for a walk to the river and looked at the ducks. Max liked to bark at the birds, and Tom laughed. '.repeat(4),
  de: 'Tom hatte einen kleinen Hund namens Max. Jeden Morgen gingen sie zum Fluss und schauten die Enten an. Max bellte gern die Vögel an, und Tom lachte. '.repeat(4),
};

export function makeBundledStandIn(dir: string): void {
  for (const f of ['config.json', 'model.safetensors', 'tokenizer.json']) copyFileSync(path.join(FIXTURE_DIR, f), path.join(dir, f));
  writeFileSync(path.join(dir, 'split.json'), JSON.stringify({ languages: { en: {}, de: {} } }));
  for (const [sub, texts] of [
    ['eval', EVAL_TEXT],
    ['calib', CALIB_TEXT],
  ] as const) {
    mkdirSync(path.join(dir, sub));
    for (const [lang, text] of Object.entries(texts)) writeFileSync(path.join(dir, sub, `${lang}.txt`), text);
  }
}

/** The production build the browser tests serve. */
export const DIST = path.resolve(process.cwd(), 'dist');

/**
 * Serve the production build at / with `routes` (URL prefix -> folder). Fails loudly when dist/ was
 * not built or ../shared/fixtures is missing (every browser test needs the fixture).
 */
export async function serveApp(routes: Record<string, string> = {}, options: StaticServerOptions = {}): Promise<StaticServer> {
  if (!existsSync(path.join(DIST, 'index.html'))) throw new Error('Build the app first: npm run build (npm test does it before vitest).');
  if (!existsSync(path.join(FIXTURE_DIR, 'config.json'))) throw new Error('The browser tests need ../shared/fixtures/stories260K beside the checkout.');
  return startStaticServer({ '/': DIST, ...routes }, options);
}

/** The built app and a stand-in bundled model served together, in a temp dir removed by close(). */
export interface StandInApp {
  server: StaticServer;
  /** The temp dir: tests may write downloads here. */
  dir: string;
  /** The stand-in model folder, served at /models/polyprune-ml/. */
  standIn: string;
  close(): Promise<void>;
}

/**
 * Check the build and the fixture, make a stand-in bundled model in a fresh temp dir and serve dist/
 * with it (plus `routes`, URL prefix -> folder). Fails loudly when dist/ or ../shared is missing.
 */
export async function serveStandInApp(prefix: string, routes: Record<string, string> = {}, options: StaticServerOptions = {}): Promise<StandInApp> {
  const work = await tempDir(prefix);
  const standIn = path.join(work.dir, 'model');
  mkdirSync(standIn);
  makeBundledStandIn(standIn);
  const server = await serveApp({ '/models/polyprune-ml/': standIn, ...routes }, options);
  return {
    server,
    dir: work.dir,
    standIn,
    close: async () => {
      await server.close();
      await work.remove();
    },
  };
}

/** The stand-in app served and open in a fresh Chromium (WebGPU) on `/?test=1`. */
export interface StandInSession {
  work: StandInApp;
  browser: Browser;
  close(): Promise<void>;
}

/**
 * serveStandInApp, then Chromium on the page; `waitForModel` waits until the bundled stand-in has loaded;
 * `server` configures the test server (e.g. `gzipAll`).
 */
export async function openStandInApp(prefix: string, opts: { waitForModel?: boolean; server?: StaticServerOptions } = {}): Promise<StandInSession> {
  const work = await serveStandInApp(prefix, {}, opts.server);
  const browser = await launchChromium({ webgpu: true });
  const close = async (): Promise<void> => {
    await browser.close();
    await work.close();
  };
  try {
    await browser.page.goto(`${work.server.url}/?test=1`);
    if (opts.waitForModel) await browser.page.getByLabel('Model architecture').waitFor({ timeout: 60_000 });
  } catch (e) {
    await close();
    throw e;
  }
  return { work, browser, close };
}

/**
 * openStandInApp in the file's beforeAll (closed in afterAll); `use` receives the session once it is
 * open, to keep what the tests need (`(s) => void ({ browser } = s)`).
 */
export function useStandInApp(prefix: string, opts: { waitForModel?: boolean; server?: StaticServerOptions }, use: (s: StandInSession) => void): void {
  let session: StandInSession | undefined;
  beforeAll(async () => {
    session = await openStandInApp(prefix, opts);
    use(session);
  });
  afterAll(async () => {
    await session?.close();
  });
}

/**
 * The built app served with `routes` (URL prefix -> folder) and open in Chromium at `/${query}` once
 * the page's test hook holds the worker engine, in the file's beforeAll (closed in afterAll); `use`
 * receives the server and browser.
 */
export function useEnginePage(routes: Record<string, string>, query: string, use: (s: { server: StaticServer; browser: Browser }) => void): void {
  let server: StaticServer | undefined;
  let browser: Browser | undefined;
  beforeAll(async () => {
    server = await serveApp(routes);
    browser = await openWithEngine(`${server.url}/${query}`);
    use({ server, browser });
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });
}

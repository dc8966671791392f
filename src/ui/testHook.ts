/**
 * Browser tests (test/browser) open the page with `?test=1` and call the real engine client
 * through `window.polyprune.engine`. Nothing is exposed without the parameter.
 */
import type { Engine } from '../engine';

declare global {
  interface Window {
    polyprune?: { engine: Engine; study?: () => Promise<typeof import('../experiment/study')> };
  }
}

export function installTestHook(engine: Engine): void {
  // `study`: the experiment runner, loaded on demand (it is not part of the page's first bundle)
  if (new URLSearchParams(location.search).get('test') === '1') window.polyprune = { engine, study: () => import('../experiment/study') };
}

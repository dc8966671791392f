import { afterAll, beforeAll } from 'vitest';
import { LocalEngine, type EngineOptions } from '../../src/engine/local';
import type { ModelSummary } from '../../src/engine';
import { nodeGpu } from '../../src/gpu/node';
import { dirFolder, nodeSpill } from '../../src/io/node';
import { FIXTURE, requireShared } from './fixture';

/**
 * The in-thread engine on Dawn with a model folder loaded (default: the stories260K fixture), the
 * setup the engine, study and export tests share; pruned models spill to a temporary file as in the
 * CLI (above the default 1 GiB: never for the fixtures unless `spillPrunedAboveBytes` says so).
 * `options` adds engine options (a GPU budget, ...).
 */
export async function fixtureEngine(options: Partial<EngineOptions> = {}, folder = FIXTURE): Promise<{ engine: LocalEngine; base: ModelSummary }> {
  const engine = new LocalEngine({ gpu: nodeGpu, politeWait: true, spill: nodeSpill(), ...options });
  const base = await engine.loadModel({ kind: 'folder', folder: dirFolder(requireShared(folder)) });
  return { engine, base };
}

/**
 * fixtureEngine in the file's beforeAll, disposed in afterAll; `use` receives the engine and the loaded
 * model (`(f) => { engine = f.engine; base = f.base.id; }`).
 */
export function useFixtureEngine(use: (f: { engine: LocalEngine; base: ModelSummary }) => void, options: Partial<EngineOptions> = {}, folder = FIXTURE): void {
  let engine: LocalEngine | undefined;
  beforeAll(async () => {
    const f = await fixtureEngine(options, folder);
    engine = f.engine;
    use(f);
  });
  afterAll(async () => {
    await engine?.dispose();
  });
}

/**
 * The engine's one door: what the front ends (src/ui, src/cli) import from the engine. The contract
 * (Engine, requests, results, the method registry's questions) lives in ./api.ts; this file adds the
 * worker client and the small helpers the front ends share. The in-thread engine and the mixer's
 * statistics file are in ./local.ts (the CLI's second door): they hold the GPU code, which the
 * page's main thread must not bundle (the page runs that engine in a Web Worker, ./worker.ts).
 * The lint rule in eslint.config.js keeps src/ui and src/cli from reaching past these doors.
 */
export * from './api';
export type { EngineOptions } from './engine';
/** The page's engine: a client of the engine in a Web Worker. */
export { createWorkerEngine, type WorkerEngine, type WorkerEngineOptions } from './client';
/** Run plans (what a run needs against the adapter's limits). */
export { describePlan, planRun, prunedBytesText } from '../prune/plan';
/** Hugging Face Hub ids for the front ends (the app's model field, the CLI's --model). */
export { isHubId, parseHubId, hubFileUrl, HUB_ENDPOINT } from '../io/hub';
/** What the mixer's statistics take, from a model summary alone. */
export { mixStatsBytes } from './mixSize';
/** Text and task data from the Hugging Face Hub (src/io/datasets; no GPU code). */
export * from './hubData';
/** The per-submit GPU work budget's parser (?gpuSubmitBudget=, --gpu-submit-budget). */
export { DEFAULT_SUBMIT_BUDGET, parseSubmitBudget } from '../common/budget';
/** What an export format can hold of a quantized model (one-line refusals; src/export/gptq.ts, no GPU code). */
export { checkQuantizedExport, quantizableShapes } from '../export/gptq';

/**
 * The engine's door for Node front ends (src/cli) and tests: the in-thread engine and the mixer's
 * statistics file. Kept apart from ./index.ts because both bundle the GPU code, which the page's
 * main thread must not load (the page runs LocalEngine in a Web Worker, ./worker.ts).
 */
export { LocalEngine, type EngineOptions } from './engine';
/** The mixer's statistics file (`polyprune mix --save-stats / --load-stats`). */
export { STATS_FILE_FORMAT, readStatsFile, statsFileChunks } from './statsFile';
/** The exact bytes of an export's model files from the config, tensor list and quantization (nothing written; src/export/size.ts). */
export { exportedBytes, checkpointTensors, type ExportSize, type ExportSizeInput, type SizedFormat } from '../export/size';

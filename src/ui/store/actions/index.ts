/**
 * Module-level actions: the only place where the UI calls the engine, one file per feature. Each
 * action runs one engine operation, feeds its progress into the store and turns its errors into
 * messages (\`runOp\` in core.ts).
 */
export { cancelRunning, connectEngine, errorCode, errorText, reportError } from './core';
export { autoLoadWanted, detectGpu, initApp, loadLanguageList } from './startup';
export { clearWeightCache, loadModel, unloadModel, weightCacheInfo, type ModelSource } from './models';
export { hubToken, hubTokenRemembered, setHubToken } from './hubToken';
export { measureAllLanguages, runPerplexity } from './perplexity';
export { pruneRequest, runPrune } from './prune';
export { experimentCsv, experimentTable, mean, patternProblem, runExperiment, spread } from './experiment';
export { addBundledSource, addExpTaskFiles, addMixSource, addSourceFiles, countAllTokens, dropAnywhere } from './sources';
export { loadUdhrIndex, runTasks, taskLanguages } from './tasks';
export { closeShared, copyShareLink, deleteEntry, exportHistory, importHistory, initHistory, renameEntry, saveRecord, toggleShown } from './storage';
export { discardResume } from './resume';
export { addRerunFiles, cancelRerunSetup, prepareRerun, resumeRun, startRerun } from './rerun';
export { recordTitle } from '../historyNames';
export { canSaveToFolder, exportActiveModel } from './export';
export { collectMixStats, confirmCurrentMix, forgetMixStats, keepCurrentMix, mixableSources, rebalance, refreshStoredMixStats, reuseMixStats, setMixWeight, updateMix } from './mixer';

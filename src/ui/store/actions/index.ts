/**
 * Module-level actions: the only place where the UI calls the engine, one file per feature. Each
 * action runs one engine operation, feeds its progress into the store and turns its errors into
 * messages (\`runOp\` in core.ts).
 */
export { cancelRunning, connectEngine, errorCode, errorText, reportError } from './core';
export { autoLoadWanted, detectGpu, initApp, loadLanguageList } from './startup';
export { clearWeightCache, loadModel, unloadModel, weightCacheInfo, type ModelSource } from '../../features/model/actions';
export { hubToken, hubTokenRemembered, setHubToken } from '../../features/model/hubToken';
export { measureAllLanguages, runPerplexity } from '../../features/perplexity/actions';
export { activePrunePlan, pruneRequest, runPrune } from '../../features/prune/actions';
export { experimentCsv, experimentTable, mean, patternProblem, runExperiment, spread } from '../../features/experiment/actions';
export { addBundledSource, addExpTaskFiles, addMixSource, addSourceFiles, countAllTokens, dropAnywhere, generateSource } from '../../features/sources/actions';
export { loadUdhrIndex, runTasks, taskLanguages } from '../../features/tasks/actions';
export { closeShared, copyShareLink, deleteEntry, exportHistory, importHistory, initHistory, renameEntry, saveRecord, toggleShown } from '../../features/history/storage';
export { discardResume } from '../../features/history/resume';
export { addRerunFiles, cancelRerunSetup, prepareRerun, resumeRun, startRerun } from '../../features/history/rerun';
export { recordTitle } from '../../features/history/names';
export { canSaveToFolder, exportActiveModel } from '../../features/export/actions';
export { chooseMixMethod, setMixQuantizer, collectMixStats, confirmCurrentMix, denseBaseOf, forgetMixStats, keepCurrentMix, mixableSources, rebalance, refreshStoredMixStats, reuseMixStats, setMixWeight, updateMix } from '../../features/mixer/actions';

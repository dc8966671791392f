/**
 * The one app store, built from typed slices (zustand slices pattern). Components read it through
 * selectors; engine work goes through the module-level actions in ./actions.ts.
 */
import { create } from 'zustand';
import { createGpuSlice } from './gpuSlice';
import { createMessagesSlice } from './messagesSlice';
import { createModelSlice } from './modelSlice';
import { createOpsSlice } from './opsSlice';
import { createPerplexitySlice } from './perplexitySlice';
import { createPruneSlice } from './pruneSlice';
import { createExperimentSlice } from './experimentSlice';
import { createTasksSlice } from './tasksSlice';
import { createHistorySlice } from './historySlice';
import { createMixerSlice } from './mixerSlice';
import type { AppState } from './types';

export const useAppStore = create<AppState>()((...a) => ({
  ...createGpuSlice(...a),
  ...createModelSlice(...a),
  ...createPerplexitySlice(...a),
  ...createPruneSlice(...a),
  ...createExperimentSlice(...a),
  ...createTasksSlice(...a),
  ...createOpsSlice(...a),
  ...createMessagesSlice(...a),
  ...createHistorySlice(...a),
  ...createMixerSlice(...a),
}));

export type { AppState } from './types';
export type { GpuStatus } from './gpuSlice';
export type { LanguageList, PplRecord, TextSource } from './perplexitySlice';
export type { PruneMethod, SparsityPattern, LayerProfileSetting } from './pruneSlice';
export { DEFAULT_EXP_SPARSITY, DEFAULT_EXP_TASK_ITEMS } from './experimentSlice';
export type { CalibSource, ExpCell, ExperimentRun, ExperimentSettings, ExpMetric, ExpRow, ExpTask, ExpTaskFile, ExpMaskOverlap, LayerTrace, TaskScore } from './experimentSlice';
export type { TaskFile, TaskRow, UdhrList } from './tasksSlice';
export type { OpOverall, OpPanel, RunningOp } from './opsSlice';
export type { Panel, UiMessage } from './messagesSlice';
export type { MixStatsView, MixUpdateView, MixConfirmView } from './mixerSlice';
export type { HistoryStatus, RerunState, ResumeOffer, SharedView } from './historySlice';

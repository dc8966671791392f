/**
 * The one app store, built from typed slices (zustand slices pattern). Components read it through
 * selectors; engine work goes through the module-level actions in ./actions.ts.
 */
import { create } from 'zustand';
import { createGpuSlice } from '../features/gpu/gpuSlice';
import { createMessagesSlice } from './messagesSlice';
import { createModelSlice } from '../features/model/modelSlice';
import { createOpsSlice } from './opsSlice';
import { createPerplexitySlice } from '../features/perplexity/perplexitySlice';
import { createPruneSlice } from '../features/prune/pruneSlice';
import { createExperimentSlice } from '../features/experiment/experimentSlice';
import { createTasksSlice } from '../features/tasks/tasksSlice';
import { createHistorySlice } from '../features/history/historySlice';
import { createMixerSlice } from '../features/mixer/mixerSlice';
import { createViewSlice } from './viewSlice';
import { createTryItSlice } from '../features/tryit/tryitSlice';
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
  ...createViewSlice(...a),
  ...createTryItSlice(...a),
}));

export type { AppState } from './types';
export type { GpuStatus } from '../features/gpu/gpuSlice';
export type { LanguageList, PplRecord, TextSource } from '../features/perplexity/perplexitySlice';
export type { PruneMethod, SparsityPattern, LayerProfileSetting } from '../features/prune/pruneSlice';
export { DEFAULT_EXP_SPARSITY, DEFAULT_EXP_TASK_ITEMS } from '../features/experiment/experimentSlice';
export type { CalibSource, ExpCell, ExperimentRun, ExperimentSettings, ExpMetric, ExpRow, ExpTask, ExpTaskFile, ExpMaskOverlap, LayerTrace, PublishedComparison, TaskScore } from '../features/experiment/experimentSlice';
export type { TaskFile, TaskRow, UdhrList } from '../features/tasks/tasksSlice';
export type { OpOverall, OpPanel, RunningOp } from './opsSlice';
export type { Panel, UiMessage } from './messagesSlice';
export type { TryCheck, TryExport, TryOutput, TryToken } from '../features/tryit/tryitSlice';
export type { MixStatsView, MixUpdateView, MixConfirmView } from '../features/mixer/mixerSlice';
export type { HistoryStatus, RerunState, ResumeOffer, SharedView } from '../features/history/historySlice';
export { VIEWS, VIEW_OF_PANEL, isViewId, type ViewId } from './viewSlice';

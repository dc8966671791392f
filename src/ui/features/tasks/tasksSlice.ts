import type { TaskName } from '../../../engine';
import type { TaskRecord } from '../../../eval/results';
import type { SliceCreator } from '../../store/types';

/** Languages of the bundled UDHR task (public/data/udhr/index.json). */
export type UdhrList =
  | { state: 'loading' }
  | { state: 'ready'; languages: { language: string; name: string; file: string; items: number }[] }
  | { state: 'missing'; message: string };

/** A dropped or opened task file, held as text until it is scored. */
export interface TaskFile {
  name: string;
  /** Size of the file in bytes. */
  bytes: number;
  text: string;
}

export interface TaskRow {
  modelId: string;
  /** Name at the time of scoring (the model may be unloaded later). */
  modelName: string;
  /** 'UDHR (bundled)' or the file name. */
  source: string;
  result: TaskRecord;
}

/** The Tasks panel: which task to score on which models, and the results. Running goes through actions.runTasks. */
export interface TasksSlice {
  udhr: UdhrList;
  taskSource: 'udhr' | 'file';
  /** Selected UDHR languages; empty until the list is known. */
  udhrSelected: string[];
  taskFile: TaskFile | null;
  taskFormat: TaskName;
  /** Language of the file: required by xcopa, xnli, pawsx; a label for the others. */
  taskLanguage: string;
  /** Score at most this many items per task (NaN: all). */
  taskLimit: number;
  /** Score the active model only, or every loaded model (dense and pruned side by side). */
  taskModels: 'active' | 'all';
  /** Newest last; one per (model, source, task, language): a rerun replaces the old one. */
  taskRows: TaskRow[];
  setUdhr: (u: UdhrList) => void;
  setTaskSource: (s: 'udhr' | 'file') => void;
  setUdhrSelected: (langs: string[]) => void;
  setTaskFile: (f: TaskFile | null) => void;
  setTaskFormat: (t: TaskName) => void;
  setTaskLanguage: (l: string) => void;
  setTaskLimit: (n: number) => void;
  setTaskModels: (m: 'active' | 'all') => void;
  addTaskRow: (r: TaskRow) => void;
  clearTaskRows: () => void;
}

const sameRow = (a: TaskRow, b: TaskRow): boolean =>
  a.modelId === b.modelId && a.source === b.source && a.result.task === b.result.task && a.result.language === b.result.language;

export const createTasksSlice: SliceCreator<TasksSlice> = (set) => ({
  udhr: { state: 'loading' },
  taskSource: 'udhr',
  udhrSelected: [],
  taskFile: null,
  taskFormat: 'jsonl',
  taskLanguage: '',
  taskLimit: Number.NaN,
  taskModels: 'active',
  taskRows: [],
  setUdhr: (udhr) => set({ udhr }),
  setTaskSource: (taskSource) => set({ taskSource }),
  setUdhrSelected: (udhrSelected) => set({ udhrSelected }),
  setTaskFile: (taskFile) => set({ taskFile }),
  setTaskFormat: (taskFormat) => set({ taskFormat }),
  setTaskLanguage: (taskLanguage) => set({ taskLanguage }),
  setTaskLimit: (taskLimit) => set({ taskLimit }),
  setTaskModels: (taskModels) => set({ taskModels }),
  addTaskRow: (r) => set((s) => ({ taskRows: [...s.taskRows.filter((x) => !sameRow(x, r)), r] })),
  clearTaskRows: () => set({ taskRows: [] }),
});

import type { OpPanel } from './opsSlice';
import type { SliceCreator } from './types';

/**
 * The page's views: the study first (the model line and the Experiment panel, the model's details
 * below it), then single measurements, the mixer, tasks and history. The view is kept in the URL
 * (`?view=...`, nothing for the study), so a reload, a bookmark and back/forward keep it.
 */
export const VIEWS = [
  { id: 'study', label: 'Experiment' },
  { id: 'measure', label: 'Perplexity & prune' },
  { id: 'tryit', label: 'Try it' },
  { id: 'mixer', label: 'Mixer' },
  { id: 'tasks', label: 'Tasks' },
  { id: 'history', label: 'History' },
] as const;

export type ViewId = (typeof VIEWS)[number]['id'];

/** The view that shows an operation's panel (its progress, Cancel and messages). */
export const VIEW_OF_PANEL: Record<OpPanel, ViewId> = {
  model: 'study',
  experiment: 'study',
  perplexity: 'measure',
  prune: 'measure',
  mixer: 'mixer',
  tasks: 'tasks',
  history: 'history',
  tryit: 'tryit',
};

export function isViewId(v: string | null): v is ViewId {
  return VIEWS.some((x) => x.id === v);
}

export interface ViewSlice {
  view: ViewId;
  setView: (view: ViewId) => void;
}

export const createViewSlice: SliceCreator<ViewSlice> = (set) => ({
  view: 'study',
  setView: (view) => set({ view }),
});

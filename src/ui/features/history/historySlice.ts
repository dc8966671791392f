import type { ResultRecord } from '../../../experiment/records';
import type { HistoryEntry, StorageInfo } from '../../../experiment/history';
import type { NeededFile } from '../../../experiment/files';
import type { OmittedDetail } from '../../../experiment/share';
import type { SliceCreator } from '../../store/types';

/**
 * History (runs kept in IndexedDB), a result opened from a share link, the re-run of a result, and
 * an interrupted experiment that can be resumed. Records are plain JSON (ResultRecord), so they fit
 * the store; the files a re-run was given stay in the actions module.
 */
export type HistoryStatus = { state: 'loading' } | { state: 'ready' } | { state: 'unavailable'; message: string };

export interface SharedView {
  record: ResultRecord;
  omitted: OmittedDetail[];
}

export interface RerunState {
  /** Any kind: an experiment, a perplexity or task measurement, a prune. */
  record: ResultRecord;
  /** Where the result came from: 'shared' link or a history entry id. */
  from: string;
  /** Files that neither the bundle nor earlier drops provided (name, size, SHA-256). */
  needed: NeededFile[];
  /** Files checked so far (all hashes known). */
  ready: boolean;
}

export interface ResumeOffer {
  id: string;
  label: string;
  done: number;
  total: number;
  updatedAt: string;
}

export interface HistorySlice {
  historyStatus: HistoryStatus;
  historyEntries: HistoryEntry<ResultRecord>[];
  historyUnreadable: number;
  historyStorage: StorageInfo | null;
  /** Entries shown below the list: one (open) or two (compare side by side). */
  historyShown: string[];
  /** The result of the share link the page was opened with. */
  shared: SharedView | null;
  /** The last link made by "Copy share link" (shown, so it can be copied by hand too). */
  lastLink: { key: string; link: string; omitted: OmittedDetail[]; copied: boolean } | null;
  rerun: RerunState | null;
  resumeOffer: ResumeOffer | null;
  setHistory: (patch: Partial<Pick<HistorySlice, 'historyStatus' | 'historyEntries' | 'historyUnreadable' | 'historyStorage' | 'historyShown' | 'shared' | 'lastLink' | 'rerun' | 'resumeOffer'>>) => void;
}

export const createHistorySlice: SliceCreator<HistorySlice> = (set) => ({
  historyStatus: { state: 'loading' },
  historyEntries: [],
  historyUnreadable: 0,
  historyStorage: null,
  historyShown: [],
  shared: null,
  lastLink: null,
  rerun: null,
  resumeOffer: null,
  setHistory: (patch) => set(patch),
});

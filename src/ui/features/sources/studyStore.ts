/**
 * The study kept across reloads (IndexedDB through `idb`): the calibration sources with their text,
 * the experiment's task files, and the Experiment panel's settings. Restored on open before the
 * defaults are filled in; saved (debounced) whenever one of them changes.
 *
 * Database `polyprune-study` (version 1):
 *   texts  { sha256, text }                  every source's and task file's text, by its SHA-256
 *   state  { key: 'study', savedAt, sources, taskFiles, settings }
 * A source or task file names its text by hash; on restore the text is hashed again and a text that
 * is missing or does not match is left out with a message (never used under a wrong name). Texts no
 * longer named are deleted at the next save. Each save is one transaction over both stores.
 */
import { openDB, type DBSchema, type IDBPDatabase } from 'idb';
import { sha256Hex } from '../../../calib/text';
import { PRUNE_METHOD_INFO } from '../../../engine';
import type { AppState } from '../../store/types';
import type { CalibSource, ExpTaskFile } from '../experiment/experimentSlice';
import { errorText, store } from '../../store/actions/core';
import { useAppStore } from '../../store';
import { countAllTokens, newId } from './actions';

type StoredSource = Omit<CalibSource, 'text' | 'tokens' | 'tokensEstimated'> & { sha256: string | null };
type StoredTaskFile = Omit<ExpTaskFile, 'text'> & { sha256: string };

/** The settings kept: the Experiment panel's, and the layer profile it shares with the Prune panel. */
const SETTINGS = ['expMethod', 'expPattern', 'expNsamples', 'expSeqlen', 'expEvalWindows', 'expSeedCount', 'expEvalLanguages', 'expUdhr', 'expBundled', 'expTaskLimit', 'expInstant', 'expConfirm', 'expVariants', 'expHubTasks', 'expEvalHub', 'expMetric', 'layerProfile'] as const;
type Settings = Partial<Pick<AppState, (typeof SETTINGS)[number]>>;

interface StudyState {
  key: 'study';
  savedAt: string;
  sources: StoredSource[];
  taskFiles: StoredTaskFile[];
  settings: Settings;
}

interface Schema extends DBSchema {
  texts: { key: string; value: { sha256: string; text: string } };
  state: { key: string; value: StudyState };
}

export const STUDY_DB = 'polyprune-study';

let dbp: Promise<IDBPDatabase<Schema>> | null = null;
function db(): Promise<IDBPDatabase<Schema>> {
  if (typeof indexedDB === 'undefined') return Promise.reject(new Error('This browser offers no IndexedDB: the study is not kept across reloads.'));
  dbp ??= openDB<Schema>(STUDY_DB, 1, {
    upgrade(d) {
      d.createObjectStore('texts', { keyPath: 'sha256' });
      d.createObjectStore('state', { keyPath: 'key' });
    },
  });
  return dbp;
}

const enc = new TextEncoder();
/** Hashes of texts already computed (by the text itself; texts of a session are few). */
const hashes = new Map<string, string>();
async function hashOf(text: string): Promise<string> {
  let h = hashes.get(text);
  if (!h) {
    h = await sha256Hex(enc.encode(text));
    hashes.set(text, h);
  }
  return h;
}

/** A setting read back only when it has the type of the current value (an old or edited entry is ignored key by key). */
function validSettings(saved: Settings): Settings {
  const now = store();
  const out: Record<string, unknown> = {};
  for (const k of SETTINGS) {
    const v = (saved as Record<string, unknown>)[k];
    const cur = now[k] as unknown;
    if (v === undefined || typeof v !== typeof cur || Array.isArray(v) !== Array.isArray(cur) || (typeof v === 'object' && v === null)) continue;
    out[k] = v;
  }
  if (out.expMethod !== undefined && !PRUNE_METHOD_INFO.some((m) => m.id === out.expMethod)) delete out.expMethod;
  return out as Settings;
}

/** Put back what the last visit kept (before the page fills in its defaults). Never throws. */
export async function restoreStudy(): Promise<void> {
  try {
    const d = await db();
    const saved = await d.get('state', 'study');
    if (!saved) return;
    const lost: string[] = [];
    const textOf = async (sha: string, name: string): Promise<string | null> => {
      const t = (await d.get('texts', sha))?.text;
      if (t === undefined || (await hashOf(t)) !== sha) {
        lost.push(name);
        // A changed text goes, so the same file added again is stored afresh.
        if (t !== undefined) await d.delete('texts', sha);
        return null;
      }
      return t;
    };
    const ids = new Map<string, string>();
    const sources: CalibSource[] = [];
    for (const s of saved.sources) {
      if (s.origin === 'mix') continue;
      const text = s.sha256 ? await textOf(s.sha256, s.name) : null;
      if (text === null) continue;
      const id = newId('src');
      ids.set(s.id, id);
      const { sha256: _sha, ...rest } = s;
      sources.push({ ...rest, id, text, tokens: null });
    }
    // Mixes after their parts, with the parts' new ids; a mix that lost a part goes too.
    for (const s of saved.sources) {
      if (s.origin !== 'mix' || !s.parts) continue;
      const parts = s.parts.map((p) => ({ ...p, id: ids.get(p.id) ?? '' }));
      if (parts.some((p) => !p.id)) {
        lost.push(s.name);
        continue;
      }
      const { sha256: _sha, ...rest } = s;
      sources.push({ ...rest, id: newId('mix'), parts, text: '', tokens: null });
    }
    const taskFiles: ExpTaskFile[] = [];
    for (const f of saved.taskFiles) {
      const text = await textOf(f.sha256, f.name);
      if (text === null) continue;
      const { sha256: _sha, ...rest } = f;
      taskFiles.push({ ...rest, id: newId('kept-task'), text });
    }
    const s = store();
    if (!s.sources.length) for (const src of sources) s.addSource(src);
    if (!s.expTaskFiles.length) for (const f of taskFiles) s.addExpTaskFile(f);
    const settings = validSettings(saved.settings);
    const { layerProfile, ...exp } = settings;
    s.setExp(exp);
    if (layerProfile) s.setLayerProfile(layerProfile);
    if (lost.length) s.pushMessage({ panel: 'experiment', level: 'info', text: `Not restored from your last visit (its stored text is missing or changed): ${lost.map((n) => `'${n}'`).join(', ')}. Add it again.` });
    void countAllTokens();
  } catch (e) {
    store().pushMessage({ panel: 'experiment', level: 'info', text: `The study of your last visit could not be restored: ${errorText(e)}` });
  }
}

async function save(s: AppState): Promise<void> {
  const texts = new Map<string, string>();
  const named = async (text: string): Promise<string> => {
    const h = await hashOf(text);
    texts.set(h, text);
    return h;
  };
  const sources: StoredSource[] = [];
  for (const { text, tokens: _t, tokensEstimated: _e, ...rest } of s.sources) sources.push({ ...rest, sha256: rest.origin === 'mix' ? null : await named(text) });
  const taskFiles: StoredTaskFile[] = [];
  for (const { text, ...rest } of s.expTaskFiles) taskFiles.push({ ...rest, sha256: await named(text) });
  const settings = Object.fromEntries(SETTINGS.map((k) => [k, s[k]])) as Settings;
  const d = await db();
  const tx = d.transaction(['texts', 'state'], 'readwrite');
  const have = new Set(await tx.objectStore('texts').getAllKeys());
  for (const [sha256, text] of texts) if (!have.has(sha256)) await tx.objectStore('texts').put({ sha256, text });
  for (const k of have) if (!texts.has(k)) await tx.objectStore('texts').delete(k);
  await tx.objectStore('state').put({ key: 'study', savedAt: new Date().toISOString(), sources, taskFiles, settings });
  await tx.done;
}

let reported = false;
/** Save the study whenever its sources, task files or settings change (debounced; one save at a time). */
export function keepStudy(delayMs = 400): void {
  const watched = (s: AppState): unknown[] => [s.sources, s.expTaskFiles, ...SETTINGS.map((k) => s[k])];
  let last = watched(store());
  let timer: ReturnType<typeof setTimeout> | null = null;
  let saving: Promise<void> = Promise.resolve();
  const schedule = (): void => {
    if (timer) clearTimeout(timer);
    timer = setTimeout(() => {
      timer = null;
      saving = saving.then(() =>
        save(store()).catch((e: unknown) => {
          if (reported) return;
          reported = true;
          store().pushMessage({ panel: 'experiment', level: 'info', text: `The study is not kept for your next visit: ${errorText(e)}` });
        }),
      );
    }, delayMs);
  };
  useAppStore.subscribe((s) => {
    const now = watched(s);
    if (now.every((v, i) => Object.is(v, last[i]))) return;
    last = now;
    schedule();
  });
  schedule();
}

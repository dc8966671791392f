/** Scoring multiple-choice tasks: the bundled UDHR task or a task file. */
import { PolyPruneError, throwIfAborted } from '../../../common/errors';
import { TASK_NAMES, type ModelSummary, type OpOptions, type TaskName, type TaskResult } from '../../../engine';
import { taskResultRecord, type TaskResultRecord } from '../../../experiment/records';
import type { TaskRecord } from '../../../eval/results';
import { TASKS } from '../../../eval/tasks/index';
import { TASKS_DIR, tasksIndexUrl, UDHR_DIR, udhrFileUrl, udhrIndexUrl } from '../../paths';
import type { BundledTask } from '../experiment/experimentSlice';
import { bundledText, errorText, fetchBundled, getEngine, runOp, store, wholeAtLeast } from '../../store/actions/core';
import { keepRecord, runHeader, textRef } from '../history/records';

interface UdhrIndexEntry {
  language: string;
  name?: string;
  file: string;
  items?: number;
}

export async function loadUdhrIndex(): Promise<void> {
  store().setUdhr({ state: 'loading' });
  try {
    const text = await fetchBundled(udhrIndexUrl(), `The UDHR task index ${UDHR_DIR}index.json`);
    let entries: UdhrIndexEntry[];
    try {
      const json = JSON.parse(text) as { languages?: unknown };
      if (!Array.isArray(json.languages)) throw new Error('no languages');
      entries = (json.languages as UdhrIndexEntry[]).filter((e) => typeof e?.language === 'string' && typeof e.file === 'string');
    } catch {
      throw new PolyPruneError('FILE_NOT_FOUND', `${UDHR_DIR}index.json is not a valid UDHR index.`);
    }
    if (!entries.length) throw new PolyPruneError('FILE_NOT_FOUND', `${UDHR_DIR}index.json lists no languages.`);
    const languages = entries.map((e) => ({ language: e.language, name: e.name ?? e.language, file: e.file, items: e.items ?? 0 })).sort((a, b) => a.language.localeCompare(b.language));
    store().setUdhr({ state: 'ready', languages });
    if (!store().udhrSelected.length) {
      const model = store().languages;
      const mine = model.state === 'ready' ? languages.filter((l) => model.languages.includes(l.language)).map((l) => l.language) : [];
      store().setUdhrSelected(mine.length ? mine : languages.some((l) => l.language === 'en') ? ['en'] : [languages[0].language]);
    }
  } catch (e) {
    store().setUdhr({ state: 'missing', message: `${errorText(e)} Score a task file of your own instead.` });
  }
}

/** Languages a task's prompt template exists for (xcopa, xnli, pawsx); undefined when any label will do. */
export function taskLanguages(task: TaskName): readonly string[] | undefined {
  return TASKS[task].languages;
}

function record(r: TaskResult): TaskRecord {
  const { perItem: _perItem, ...rest } = r;
  return rest;
}

/**
 * Score the bundled UDHR task (selected languages) or the chosen task file, on the active model or on
 * every loaded model. Each (model, task, language) becomes one row of the results table.
 */
export async function runTasks(): Promise<void> {
  const s = store();
  const bad = (code: string, text: string): void => s.pushMessage({ panel: 'tasks', level: 'error', code, text });
  const models = s.taskModels === 'all' ? s.models : s.models.filter((m) => m.id === s.activeModelId);
  if (!models.length) return bad('BAD_ARGUMENT', 'Load a model first.');
  const limit = Number.isNaN(s.taskLimit) ? undefined : s.taskLimit;
  if (limit !== undefined && !wholeAtLeast('tasks', limit, 1, 'Max items')) return;

  /** `fileName`: how the record names the file (the UDHR file as bundled, or the user's file). */
  type Job = { language: string; source: string; fileName: string; task: TaskName; text: () => Promise<string> };
  let jobs: Job[];
  if (s.taskSource === 'udhr') {
    if (s.udhr.state !== 'ready') return bad('FILE_NOT_FOUND', 'The bundled UDHR task is not in this build; score a task file instead.');
    const chosen = s.udhr.languages.filter((l) => s.udhrSelected.includes(l.language));
    if (!chosen.length) return bad('BAD_ARGUMENT', 'Choose at least one UDHR language.');
    jobs = chosen.map((l) => ({ language: l.language, source: 'UDHR (bundled)', fileName: l.file, task: 'udhr', text: () => bundledText(udhrFileUrl(l.file), `UDHR task '${l.language}'`) }));
  } else {
    const file = s.taskFile;
    if (!file) return bad('BAD_ARGUMENT', 'Choose or drop a task file first.');
    const task = s.taskFormat;
    const language = s.taskLanguage.trim();
    const supported = taskLanguages(task);
    if (supported && !supported.includes(language)) return bad('BAD_ARGUMENT', `${task} needs the file's language. Supported: ${supported.join(', ')}.`);
    jobs = [{ language, source: file.name, fileName: file.name, task, text: async () => file.text }];
  }

  const total = jobs.length * models.length;
  const what = s.taskSource === 'udhr' ? `UDHR, ${jobs.length} language${jobs.length === 1 ? '' : 's'}` : `${jobs[0].task} (${jobs[0].source})`;
  await runOp('tasks', `Tasks: ${what} on ${models.length === 1 ? models[0].name : `${models.length} models`}`, async (opts, signal) => {
    let done = 0;
    for (const job of jobs) {
      const text = await job.text();
      for (const m of models) {
        throwIfAborted(signal);
        store().setOpOverall(opts.opId, { done, total, message: `${job.task}${job.language ? ` ${job.language}` : ''} on ${m.name}` });
        store().setOpProgress(opts.opId, null);
        await score(m, job.task, text, { name: job.fileName, language: job.language || null }, job.source, limit, opts);
        done++;
      }
    }
  });
}

/** Score one task on one model, add its row to the table and keep its record in History (entry id). */
async function score(model: ModelSummary, task: TaskName, text: string, file: { name: string; language: string | null }, source: string, limit: number | undefined, opts: OpOptions): Promise<string | undefined> {
  const result = await getEngine().evalTask(model.id, { task, text, language: file.language ?? undefined, limit }, opts);
  store().addTaskRow({ modelId: model.id, modelName: model.name, source, result: record(result) });
  return keepRecord(async () => taskResultRecord(await runHeader(model), await textRef(file.name, text, file.language), limit, result));
}

/** Score a task record again (History's Re-run): same file (checked by hash), language and item limit. */
export async function rerunTask(model: ModelSummary, rec: TaskResultRecord, text: string): Promise<string | undefined> {
  const source = rec.settings.task === 'udhr' ? 'UDHR (bundled)' : rec.file.name;
  const file = { name: rec.file.name, language: rec.file.language };
  return runOp('tasks', `Re-run: ${rec.settings.task} ${rec.settings.language} on ${model.name}`, (opts) => score(model, rec.settings.task, text, file, source, rec.settings.limit ?? undefined, opts));
}

/**
 * The optional index of bundled tasks beyond UDHR (`data/tasks/index.json`: `{tasks: [{id?, task,
 * language, file, name?, items?}]}`, files relative to data/tasks/). Without it the experiment
 * offers the UDHR task and task files.
 */
export async function loadTaskIndex(): Promise<void> {
  let text: string;
  try {
    text = await fetchBundled(tasksIndexUrl(), `The task index ${TASKS_DIR}index.json`);
  } catch {
    store().setExp({ bundledTasks: [] });
    return;
  }
  try {
    const json = JSON.parse(text) as { tasks?: unknown };
    const list = Array.isArray(json.tasks) ? json.tasks : Array.isArray(json) ? (json as unknown[]) : [];
    const tasks: BundledTask[] = [];
    for (const e of list as Record<string, unknown>[]) {
      if (!e || typeof e.file !== 'string' || typeof e.language !== 'string' || !(TASK_NAMES as readonly string[]).includes(String(e.task))) continue;
      // A short name shared by the same kind of task across languages ("ar.swap" -> "swap"): one heatmap per name.
      const id = typeof e.id === 'string' ? e.id.replace(new RegExp(`^${e.language}[._-]`), '') : '';
      const name = typeof e.name === 'string' ? e.name : id ? `${id} (${String(e.task)})` : String(e.task);
      tasks.push({ task: e.task as TaskName, language: e.language, file: e.file, name, items: typeof e.items === 'number' ? e.items : 0 });
    }
    store().setExp({ bundledTasks: tasks });
  } catch {
    store().setExp({ bundledTasks: [] });
    store().pushMessage({ panel: 'experiment', level: 'info', text: `${TASKS_DIR}index.json is not valid JSON; only the UDHR task and your task files are offered.` });
  }
}

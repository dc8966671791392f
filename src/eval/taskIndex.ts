/**
 * The index of the bundled downstream tasks (public/data/tasks/index.json, written by
 * tools/make-eval-tasks/make-tasks.mjs): which task file exists for which language, which engine
 * task format scores it, how many items it has and its chance level. Typed with zod so that the app
 * and the CLI read it the same way and a broken index fails with one clear line.
 */
import { z } from 'zod';
import { PolyPruneError } from '../common/errors';
import { TASK_NAMES } from './types';

export const taskIndexEntrySchema = z.object({
  /** Unique id, `<language>.<kind>` (e.g. `de.swap`). */
  id: z.string().min(1),
  /** Engine task name that parses and scores the file. */
  task: z.enum(TASK_NAMES),
  language: z.string().min(1),
  /** File name relative to the index's folder (no folders, no `..`). */
  file: z
    .string()
    .min(1)
    .regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, 'must be a plain file name in the same folder'),
  items: z.number().int().min(1),
  /** Accuracy of guessing (1 / number of choices). */
  chance: z.number().gt(0).lt(1),
  description: z.string().min(1),
});
export type TaskIndexEntry = z.infer<typeof taskIndexEntrySchema>;

export const taskIndexSchema = z.object({
  version: z.literal(1),
  model: z.string().optional(),
  generator: z.string().optional(),
  seedSalt: z.string().optional(),
  source: z.string().optional(),
  license: z.string().optional(),
  tasks: z.array(taskIndexEntrySchema).min(1),
});
export type TaskIndex = z.infer<typeof taskIndexSchema>;

/** Parse and check an index.json text; throws PolyPruneError('TASK_INVALID') with a one-line message. */
export function parseTaskIndex(text: string, where = 'index.json'): TaskIndex {
  let raw: unknown;
  try {
    raw = JSON.parse(text.replace(/^\uFEFF/, ''));
  } catch (e) {
    throw new PolyPruneError('TASK_INVALID', `${where}: not valid JSON (${(e as Error).message}).`);
  }
  const r = taskIndexSchema.safeParse(raw);
  if (!r.success) {
    const first = r.error.issues[0];
    const more = r.error.issues.length > 1 ? ` (and ${r.error.issues.length - 1} more problems)` : '';
    throw new PolyPruneError('TASK_INVALID', `${where}: ${first.path.join('.') || 'top level'}: ${first.message}${more}.`);
  }
  const seen = new Set<string>();
  for (const t of r.data.tasks) {
    if (seen.has(t.id)) throw new PolyPruneError('TASK_INVALID', `${where}: task id '${t.id}' appears twice.`);
    seen.add(t.id);
  }
  return r.data;
}

/** The index's tasks for one language (in index order). */
export function tasksForLanguage(index: TaskIndex, language: string): TaskIndexEntry[] {
  return index.tasks.filter((t) => t.language === language);
}

/** URL (or path) of a task file, resolved against the URL (or path) of the index. */
export function taskFileUrl(indexUrl: string, entry: TaskIndexEntry): string {
  const slash = indexUrl.lastIndexOf('/');
  return `${slash < 0 ? '' : indexUrl.slice(0, slash + 1)}${entry.file}`;
}

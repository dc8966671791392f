/**
 * The bundled downstream tasks (public/data/tasks, built by tools/make-eval-tasks/make-tasks.mjs):
 * the index parses with the typed loader, every file parses with the engine task it names and has
 * the stated item count and chance level, items are built from held-out eval text (never from the
 * calibration text), and broken indexes fail with one clear line.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { PolyPruneError } from '../../src/common/errors';
import { parseTaskIndex, taskFileUrl, tasksForLanguage, type TaskIndex } from '../../src/eval/taskIndex';
import { parseTask } from '../../src/eval/tasks/index';

const DIR = path.resolve(process.cwd(), 'public/data/tasks');
const MODEL = path.resolve(process.cwd(), 'public/models/polyprune-ml');
const LANGS = ['ar', 'de', 'en', 'es', 'fr', 'it', 'ja', 'pt', 'ru', 'sw', 'zh'];
const squash = (s: string) => s.replace(/\s+/g, ' ');
const sorted = (s: string) => [...s].sort().join('');

describe('bundled task index (public/data/tasks/index.json)', () => {
  const index: TaskIndex = parseTaskIndex(readFileSync(path.join(DIR, 'index.json'), 'utf8'));

  it('has a swap and a replace task for every language of the default model', () => {
    for (const l of LANGS) expect(tasksForLanguage(index, l).map((t) => t.id.split('.')[1]).sort(), l).toEqual(['replace', 'swapfar']);
  });

  it('every file parses with its engine task, with the stated item count and chance level', () => {
    for (const t of index.tasks) {
      const parsed = parseTask(t.task, readFileSync(path.join(DIR, t.file), 'utf8'), { language: t.language });
      expect(parsed.warnings, t.id).toEqual([]);
      expect(parsed.items.length, t.id).toBe(t.items);
      for (const it of parsed.items) expect(1 / it.choices.length, `${t.id} ${it.id}`).toBe(t.chance);
      // Enough items for a 5-point change to show (sw: its whole held-out text is ~3 kB).
      expect(t.items, t.id).toBeGreaterThanOrEqual(t.language === 'sw' ? 40 : 160);
    }
  });

  it('items are held-out eval sentences and their perturbations, never calibration text', () => {
    for (const t of index.tasks) {
      const evalText = squash(readFileSync(path.join(MODEL, 'eval', `${t.language}.txt`), 'utf8'));
      const calibText = squash(readFileSync(path.join(MODEL, 'calib', `${t.language}.txt`), 'utf8'));
      const parsed = parseTask(t.task, readFileSync(path.join(DIR, t.file), 'utf8'), { language: t.language });
      for (const it of parsed.items) {
        const [good, bad] = it.choices;
        expect(evalText.includes(good), `${t.id} ${it.id}: not in eval/${t.language}.txt`).toBe(true);
        expect(calibText.includes(good), `${t.id} ${it.id}: in calib/${t.language}.txt`).toBe(false);
        expect(bad, `${t.id} ${it.id}`).not.toBe(good);
        // A swap keeps every character; a replacement changes exactly one word.
        if (t.id.endsWith('.swapfar')) expect(sorted(bad), `${t.id} ${it.id}`).toBe(sorted(good));
      }
    }
  });

  it('resolves task files next to the index', () => {
    const t = index.tasks[0];
    expect(taskFileUrl('/data/tasks/index.json', t)).toBe(`/data/tasks/${t.file}`);
    expect(taskFileUrl('index.json', t)).toBe(t.file);
  });

  it('rejects a broken index with one line naming the problem', () => {
    const ok = { version: 1, tasks: [{ id: 'en.swap', task: 'clams', language: 'en', file: 'en.swap.txt', items: 3, chance: 0.5, description: 'd' }] };
    const bad = (doc: unknown) => () => parseTaskIndex(typeof doc === 'string' ? doc : JSON.stringify(doc));
    expect(parseTaskIndex(JSON.stringify(ok)).tasks).toHaveLength(1);
    const cases: [unknown, RegExp][] = [
      ['{', /not valid JSON/],
      [{ ...ok, version: 2 }, /version/],
      [{ ...ok, tasks: [] }, /tasks/],
      [{ ...ok, tasks: [{ ...ok.tasks[0], task: 'nope' }] }, /tasks\.0\.task/],
      [{ ...ok, tasks: [{ ...ok.tasks[0], file: '../secret.txt' }] }, /tasks\.0\.file: must be a plain file name/],
      [{ ...ok, tasks: [{ ...ok.tasks[0], chance: 1 }] }, /tasks\.0\.chance/],
      [{ ...ok, tasks: [{ ...ok.tasks[0], items: 0 }] }, /tasks\.0\.items/],
      [{ ...ok, tasks: [{ ...ok.tasks[0], description: undefined }] }, /tasks\.0\.description/],
      [{ ...ok, tasks: [ok.tasks[0], ok.tasks[0]] }, /'en\.swap' appears twice/],
    ];
    for (const [doc, msg] of cases) {
      expect(bad(doc)).toThrow(PolyPruneError);
      expect(bad(doc)).toThrow(msg);
      try {
        bad(doc)();
      } catch (e) {
        expect((e as PolyPruneError).code).toBe('TASK_INVALID');
        expect((e as Error).message).not.toContain('\n');
      }
    }
  });
});

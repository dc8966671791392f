/**
 * Generic multiple choice in JSONL (or a JSON array): `{context, choices: string[], label, id?}` per
 * line. continuation = delimiter + choice (delimiter ' ' unless the caller gives another, as lm-eval's
 * `target_delimiter`). Also reads the UDHR task files this project ships
 * (public/data/udhr/<lang>.json, built by tools/make-eval-data): `{language, mc: {target_delimiter, items}}`.
 */
import { PolyPruneError } from '../../common/errors';
import type { ParsedTask, TaskName } from '../types';
import { asObject, checkLabel, collect, contextItem, finish, int, readJsonRecords, RecordError, str, stripBom, type SourceRecord } from './common';

function item(rec: SourceRecord, delimiter: string) {
  const o = asObject(rec);
  const context = str(o, 'context', rec, true);
  const raw = o.choices;
  if (raw === undefined || raw === null) throw new RecordError(`${rec.where}: missing field 'choices'`);
  if (!Array.isArray(raw) || raw.length < 2) throw new RecordError(`${rec.where}: field 'choices' must be an array of at least 2 strings`);
  const choices = raw.map((c, k) => {
    if (typeof c !== 'string') throw new RecordError(`${rec.where}: choices[${k}] must be a string, got ${typeof c}`);
    return c;
  });
  const label = checkLabel(int(o, 'label', rec), choices.length, 'label', rec);
  const id = typeof o.id === 'string' || typeof o.id === 'number' ? String(o.id) : rec.where;
  return contextItem(id, context, choices, label, delimiter);
}

export function parseGenericJsonl(text: string, opts: { language?: string; targetDelimiter?: string } = {}): ParsedTask {
  const warnings: string[] = [];
  const records = readJsonRecords('jsonl', text, warnings);
  const items = collect(records, warnings, (rec) => item(rec, opts.targetDelimiter ?? ' '));
  return finish('jsonl', opts.language ?? 'und', items, warnings);
}

/** A UDHR task file (public/data/udhr/<lang>.json). */
export function parseUdhrTask(text: string, opts: { language?: string } = {}): ParsedTask {
  const task: TaskName = 'udhr';
  const body = stripBom(text).trim();
  if (body === '') throw new PolyPruneError('TASK_INVALID', 'udhr: the file is empty. Give public/data/udhr/<lang>.json.');
  let doc: unknown;
  try {
    doc = JSON.parse(body);
  } catch (e) {
    throw new PolyPruneError('TASK_INVALID', `udhr: not valid JSON (${(e as Error).message}). Give public/data/udhr/<lang>.json.`);
  }
  const mc = (doc as { mc?: { target_delimiter?: unknown; items?: unknown } } | null)?.mc;
  if (!mc || !Array.isArray(mc.items)) throw new PolyPruneError('TASK_INVALID', "udhr: missing field 'mc.items'. Give public/data/udhr/<lang>.json.");
  const delimiter = typeof mc.target_delimiter === 'string' ? mc.target_delimiter : ' ';
  const warnings: string[] = [];
  const records = mc.items.map((value, i): SourceRecord => ({ where: `mc.items[${i}]`, line: i + 1, value }));
  const items = collect(records, warnings, (rec) => item(rec, delimiter));
  const lang = opts.language ?? (typeof (doc as { language?: unknown }).language === 'string' ? (doc as { language: string }).language : 'und');
  return finish(task, lang, items, warnings);
}

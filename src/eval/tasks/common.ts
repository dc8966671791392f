/**
 * Helpers shared by the task parsers: reading JSONL / JSON arrays / TSV with per-line problems
 * collected as warnings, typed field access whose errors name the field and the line, and the final
 * "no valid items" check.
 */
import { PolyPruneError } from '../../common/errors';
import type { LlRequest, McItem, ParsedTask, TaskName } from '../types';

/** A record and where it came from ("line 7", or "record 3" inside a JSON array). */
export interface SourceRecord {
  where: string;
  line: number;
  value: unknown;
}

/** Thrown by the field helpers; the parsers turn it into a warning and skip the record. */
export class RecordError extends Error {}

export function stripBom(text: string): string {
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

export function splitLines(text: string): string[] {
  return stripBom(text).split(/\r\n|\n|\r/);
}

export function assertNotEmpty(task: TaskName, text: string): void {
  if (stripBom(text).trim() === '') {
    throw new PolyPruneError('TASK_INVALID', `${task}: the file is empty. Give the task's data file (see docs/eval-tasks.md for the formats).`);
  }
}

/**
 * Records of a JSONL file (one JSON object per line; blank lines skipped) or of a JSON array. A line
 * that is not valid JSON becomes a warning with its line number; the other lines are still read.
 */
export function readJsonRecords(task: TaskName, text: string, warnings: string[]): SourceRecord[] {
  assertNotEmpty(task, text);
  const body = stripBom(text).trimStart();
  if (body.startsWith('[')) {
    let arr: unknown;
    try {
      arr = JSON.parse(body);
    } catch (e) {
      throw new PolyPruneError('TASK_INVALID', `${task}: the file starts with '[' but is not a valid JSON array (${(e as Error).message}).`);
    }
    if (!Array.isArray(arr)) throw new PolyPruneError('TASK_INVALID', `${task}: expected a JSON array of records.`);
    return arr.map((value, i) => ({ where: `record ${i + 1}`, line: i + 1, value }));
  }
  const out: SourceRecord[] = [];
  splitLines(text).forEach((raw, i) => {
    const line = raw.trim();
    if (line === '') return;
    try {
      out.push({ where: `line ${i + 1}`, line: i + 1, value: JSON.parse(line) });
    } catch (e) {
      warnings.push(`line ${i + 1}: not valid JSON (${(e as Error).message}); skipped.`);
    }
  });
  return out;
}

/** Rows of a tab-separated file with a header line, as records keyed by the header names. */
export function readTsvRecords(task: TaskName, text: string, required: readonly string[]): SourceRecord[] {
  assertNotEmpty(task, text);
  const lines = splitLines(text);
  const headerIdx = lines.findIndex((l) => l.trim() !== '');
  const header = lines[headerIdx].split('\t').map((h) => h.trim());
  const missing = required.filter((r) => !header.includes(r));
  if (missing.length) {
    throw new PolyPruneError('TASK_INVALID', `${task}: TSV header (line ${headerIdx + 1}) lacks column(s) ${missing.join(', ')}; it has: ${header.join(', ')}.`);
  }
  const out: SourceRecord[] = [];
  for (let i = headerIdx + 1; i < lines.length; i++) {
    if (lines[i].trim() === '') continue;
    const cells = lines[i].split('\t');
    const value: Record<string, string> = {};
    header.forEach((h, j) => {
      if (cells[j] !== undefined) value[h] = cells[j];
    });
    out.push({ where: `line ${i + 1}`, line: i + 1, value });
  }
  return out;
}

export function asObject(rec: SourceRecord): Record<string, unknown> {
  if (rec.value === null || typeof rec.value !== 'object' || Array.isArray(rec.value)) {
    throw new RecordError(`${rec.where}: expected a JSON object, got ${Array.isArray(rec.value) ? 'an array' : typeof rec.value}`);
  }
  return rec.value as Record<string, unknown>;
}

/** A string field (present, a string; empty allowed only when `allowEmpty`). */
export function str(obj: Record<string, unknown>, field: string, rec: SourceRecord, allowEmpty = false): string {
  const v = obj[field];
  if (v === undefined || v === null) throw new RecordError(`${rec.where}: missing field '${field}'`);
  if (typeof v !== 'string') throw new RecordError(`${rec.where}: field '${field}' must be a string, got ${typeof v}`);
  if (!allowEmpty && v.trim() === '') throw new RecordError(`${rec.where}: field '${field}' is empty`);
  return v;
}

/** The first of several alternative field names that is present. */
export function pick(obj: Record<string, unknown>, fields: readonly string[]): string {
  return fields.find((f) => obj[f] !== undefined && obj[f] !== null) ?? fields[0];
}

/** An integer field; numeric strings ("2") are accepted, as datasets store labels both ways. */
export function int(obj: Record<string, unknown>, field: string, rec: SourceRecord): number {
  const v = obj[field];
  if (v === undefined || v === null) throw new RecordError(`${rec.where}: missing field '${field}'`);
  const n = typeof v === 'number' ? v : typeof v === 'string' && /^\s*-?\d+\s*$/.test(v) ? Number(v) : NaN;
  if (!Number.isInteger(n)) throw new RecordError(`${rec.where}: field '${field}' must be an integer, got ${JSON.stringify(v)}`);
  return n;
}

export function checkLabel(label: number, choices: number, field: string, rec: SourceRecord, base = 0): number {
  if (label < base || label >= choices + base) {
    throw new RecordError(`${rec.where}: ${field} ${label} out of range ${base}..${choices - 1 + base}`);
  }
  return label - base;
}

/** Build an item from a shared context and choice strings, lm-eval style: continuation = delimiter + choice. */
export function contextItem(id: string, context: string, choices: string[], label: number, delimiter = ' '): McItem {
  return { id, requests: choices.map((c): LlRequest => ({ context, continuation: delimiter + c })), choices, label };
}

/** Run `make` on every record; a RecordError becomes a warning and the record is skipped. */
export function collect(records: readonly SourceRecord[], warnings: string[], make: (rec: SourceRecord) => McItem | null): McItem[] {
  const items: McItem[] = [];
  for (const rec of records) {
    try {
      const item = make(rec);
      if (item) items.push(item);
    } catch (e) {
      if (e instanceof RecordError) warnings.push(`${e.message}; skipped.`);
      else throw e;
    }
  }
  return items;
}

/** Fail with TASK_INVALID when nothing usable was parsed. */
export function finish(task: TaskName, language: string, items: McItem[], warnings: string[]): ParsedTask {
  if (items.length === 0) {
    const first = warnings.slice(0, 3).join(' ');
    throw new PolyPruneError(
      'TASK_INVALID',
      `${task}: no valid items in the file${warnings.length ? ` (${warnings.length} problem(s); first: ${first})` : ''}. See docs/eval-tasks.md for the expected format.`,
    );
  }
  return { task, language, items, warnings };
}

/** Python `s[0].lower() + s[1:]` on code points. */
export function lowerFirst(s: string): string {
  const cp = s.codePointAt(0);
  if (cp === undefined) return s;
  const first = String.fromCodePoint(cp);
  return first.toLowerCase() + s.slice(first.length);
}

/** Python `s[:-1]` on code points. */
export function dropLastChar(s: string): string {
  const chars = Array.from(s);
  chars.pop();
  return chars.join('');
}

/** A language option is required: fail listing the supported ones. */
export function requireLanguage<T>(task: TaskName, language: string | undefined, table: Readonly<Record<string, T>>): [string, T] {
  const supported = Object.keys(table).join(', ');
  if (!language) throw new PolyPruneError('BAD_ARGUMENT', `${task} needs a language for its prompt template. Supported: ${supported}.`);
  const t = table[language];
  if (!t) throw new PolyPruneError('BAD_ARGUMENT', `${task}: no prompt template for language '${language}'. Supported: ${supported}.`);
  return [language, t];
}

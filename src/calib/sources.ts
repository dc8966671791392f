/**
 * Calibration sources from user files: plain text (.txt, .md), JSON Lines / JSON with a text field,
 * CSV with a text column. A file is read from its start up to `maxBytes` with Blob.slice (a file of
 * hundreds of MB is never read whole, and never tokenized whole); what is used is cut at the last
 * whole line, checked with the calibration text checks of text.ts (strict UTF-8, not binary, not
 * empty) and turned into paragraphs joined with blank lines.
 */
import Papa from 'papaparse';
import { PolyPruneError } from '../common/errors';
import { fmtBytes } from '../common/format';
import { calibrationParagraphs } from './text';
import { identifyLanguage, type LanguageGuess } from './langid';

/** Below this lead over the runner-up (`LanguageGuess.margin`) a guess is not taken: the user is asked. */
export const MIN_LANGID_MARGIN = 0.01;

export type SourceFormat = 'text' | 'jsonl' | 'json' | 'csv';

/** Extensions read as calibration sources, for file pickers (`accept`). */
export const SOURCE_EXTENSIONS = ['.txt', '.md', '.text', '.jsonl', '.ndjson', '.json', '.csv', '.tsv'] as const;

/** Default cap on the bytes read from one file: far more text than calibration windows ever need. */
export const DEFAULT_MAX_SOURCE_BYTES = 4 * 1024 * 1024;

/** Field and column names tried, in order, for the text of a JSON record or a CSV row. */
const TEXT_FIELDS = ['text', 'content', 'sentence', 'passage', 'document', 'body', 'premise', 'flores_passage'];

export function sourceFormat(name: string): SourceFormat {
  const ext = name.toLowerCase().match(/\.[a-z0-9]+$/)?.[0] ?? '';
  if (ext === '.jsonl' || ext === '.ndjson') return 'jsonl';
  if (ext === '.json') return 'json';
  if (ext === '.csv' || ext === '.tsv') return 'csv';
  return 'text';
}

export interface ParsedSource {
  name: string;
  format: SourceFormat;
  /** Size of the whole file. */
  fileBytes: number;
  /** Bytes of the file that were read and used (the whole file unless `capped`). */
  bytes: number;
  /** True when only the first part of the file was read (the file is larger than the cap). */
  capped: boolean;
  /** Paragraphs joined with blank lines: what calibration tokenizes. */
  text: string;
  paragraphs: number;
  /** Where the text came from: field or column name for structured files. */
  field?: string;
  /** Records skipped (malformed JSON lines, rows without text). */
  skipped: number;
  preview: string;
  /** The identified language, or null when it cannot be told (the user is asked). */
  guess: LanguageGuess | null;
}

const bad = (message: string): PolyPruneError => new PolyPruneError('CALIBRATION_INVALID', message);

/** The first `maxBytes` of `blob` as bytes, cut after the last newline when the file goes on. */
export async function readHead(blob: Blob, maxBytes: number): Promise<{ bytes: Uint8Array; capped: boolean }> {
  const capped = blob.size > maxBytes;
  let bytes = new Uint8Array(await blob.slice(0, Math.min(blob.size, maxBytes)).arrayBuffer());
  if (capped) {
    const nl = bytes.lastIndexOf(0x0a);
    // No newline in the whole slice: cut at a UTF-8 character boundary instead.
    let end = nl > 0 ? nl + 1 : bytes.length;
    if (nl <= 0) while (end > 0 && (bytes[end - 1] & 0xc0) === 0x80) end--;
    if (nl <= 0 && end > 0 && bytes[end - 1] >= 0xc0) end--;
    bytes = bytes.subarray(0, end);
  }
  return { bytes, capped };
}

function pickField(rec: Record<string, unknown>, preferred?: string): string | undefined {
  if (preferred && typeof rec[preferred] === 'string') return preferred;
  const keys = Object.keys(rec);
  for (const f of TEXT_FIELDS) {
    const k = keys.find((x) => x.toLowerCase() === f);
    if (k && typeof rec[k] === 'string') return k;
  }
  const strings = keys.filter((k) => typeof rec[k] === 'string');
  return strings.length === 1 ? strings[0] : undefined;
}

function fromRecords(name: string, records: unknown[], what: string): { texts: string[]; field?: string; skipped: number } {
  let field: string | undefined;
  const texts: string[] = [];
  let skipped = 0;
  for (const r of records) {
    if (typeof r === 'string') {
      texts.push(r);
      continue;
    }
    if (!r || typeof r !== 'object' || Array.isArray(r)) {
      skipped++;
      continue;
    }
    const f = pickField(r as Record<string, unknown>, field);
    if (!f) {
      skipped++;
      continue;
    }
    field ??= f;
    const v = (r as Record<string, unknown>)[f];
    if (typeof v === 'string' && v.trim()) texts.push(v);
    else skipped++;
  }
  if (!texts.length) {
    throw bad(`'${name}' has no text: no ${what} with a text field (${TEXT_FIELDS.slice(0, 4).join(', ')}, ...) or a single string field.`);
  }
  return { texts, field, skipped };
}

/** Extract the calibration text of a file's (capped) bytes in the given format. */
export function parseSourceBytes(name: string, format: SourceFormat, bytes: Uint8Array): { text: string; field?: string; skipped: number; paragraphs: number } {
  if (bytes.length === 0) throw bad(`'${name}' is empty. Give a file with at least a few paragraphs of text.`);
  const paragraphs = calibrationParagraphs(name, bytes);
  const raw = paragraphs.join('\n\n');
  if (format === 'text') return { text: raw, skipped: 0, paragraphs: paragraphs.length };
  if (format === 'jsonl') {
    const records: unknown[] = [];
    let skipped = 0;
    for (const line of raw.split('\n')) {
      if (!line.trim()) continue;
      try {
        records.push(JSON.parse(line));
      } catch {
        skipped++;
      }
    }
    const r = fromRecords(name, records, 'JSON line');
    return { field: r.field, text: r.texts.join('\n\n'), skipped: r.skipped + skipped, paragraphs: r.texts.length };
  }
  if (format === 'json') {
    let json: unknown;
    try {
      json = JSON.parse(raw);
    } catch (e) {
      throw bad(`'${name}' is not valid JSON (${e instanceof Error ? e.message : String(e)}). For large files use JSON Lines (.jsonl), one record per line.`);
    }
    const list = Array.isArray(json) ? json : json && typeof json === 'object' ? (Object.values(json).find(Array.isArray) ?? [json]) : [json];
    const r = fromRecords(name, list as unknown[], 'record');
    return { field: r.field, text: r.texts.join('\n\n'), skipped: r.skipped, paragraphs: r.texts.length };
  }
  const parsed = Papa.parse<Record<string, string>>(raw, { header: true, skipEmptyLines: true });
  const cols = parsed.meta.fields ?? [];
  if (!cols.length || !parsed.data.length) throw bad(`'${name}' has no CSV rows under a header line.`);
  let col = cols.find((c) => TEXT_FIELDS.includes(c.trim().toLowerCase()));
  if (!col) {
    // The column with the longest text on average.
    const mean = (c: string): number => parsed.data.reduce((a, row) => a + (row[c]?.length ?? 0), 0) / parsed.data.length;
    col = [...cols].sort((a, b) => mean(b) - mean(a))[0];
  }
  const texts = parsed.data.map((row) => row[col!] ?? '').filter((t) => t.trim());
  if (!texts.length) throw bad(`'${name}' has no text in its column '${col}'.`);
  return { text: texts.join('\n\n'), field: col, skipped: parsed.data.length - texts.length, paragraphs: texts.length };
}

/** A short one-line preview of a text. */
export function previewOf(text: string, chars = 160): string {
  // Only the start is looked at: a regex over megabytes of text would stall the page.
  const t = text.slice(0, chars * 8).replace(/\s+/g, ' ').trim();
  return t.length <= chars ? t : `${t.slice(0, chars - 1)}…`;
}

const yieldToPage = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 0));

/** Read, check and parse a dropped or picked file into a calibration source (no tokenizing). */
export async function readSource(file: Blob & { name: string }, maxBytes = DEFAULT_MAX_SOURCE_BYTES): Promise<ParsedSource> {
  if (file.size === 0) throw bad(`'${file.name}' is empty. Give a file with at least a few paragraphs of text.`);
  const format = sourceFormat(file.name);
  if (format === 'json' && file.size > maxBytes) {
    throw bad(`'${file.name}' is ${fmtBytes(file.size)} of JSON, which would have to be read whole. Use JSON Lines (.jsonl), one record per line; large files are then read from the start.`);
  }
  const { bytes, capped } = await readHead(file, maxBytes);
  // The checks of text.ts: strict UTF-8 with the offset of the first bad byte, binary, empty.
  const { text, field, skipped, paragraphs } = parseSourceBytes(file.name, format, bytes);
  // Let the page draw between the heavier steps (a browser page runs this on its main thread).
  await yieldToPage();
  const guess = confidentGuess(text);
  await yieldToPage();
  return {
    name: file.name,
    format,
    fileBytes: file.size,
    bytes: bytes.length,
    capped,
    text,
    paragraphs,
    ...(field ? { field } : {}),
    skipped,
    preview: previewOf(text),
    guess,
  };
}

/** `identifyLanguage`, but null when the best guess barely beats the runner-up (random letters, mixed text). */
export function confidentGuess(text: string): LanguageGuess | null {
  const g = identifyLanguage(text);
  return g && g.margin >= MIN_LANGID_MARGIN ? g : null;
}

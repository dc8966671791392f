/**
 * `polyprune share <record.json>`: the share link of a result record written by `--json`, so a run
 * made headless on a GPU server opens in anyone's browser. `polyprune show <link|record.json>`: the
 * record's tables in the terminal.
 */
import type { Command } from 'commander';
import { PolyPruneError } from '../common/errors';
import { MAX_RECORD_BYTES, meanSpread, parseResultRecord, type ResultRecord } from '../experiment/records';
import { readRegularFile } from '../io/node';
import { escapeControls } from '../common/text';
import { decodeRecordLink, OMITTED_TEXT, recordShareLink, type OmittedDetail } from '../experiment/share';
import { studyMarkdown } from '../experiment/study';
import { decodeUtf8Strict } from './text';

/** Where `npm start` serves the app; pass --base for a deployed copy. */
export const DEFAULT_APP_URL = 'http://127.0.0.1:4173/';

export async function readRecordFile(file: string): Promise<ResultRecord> {
  const bytes = (await readRegularFile(file, { what: 'Result file', maxBytes: MAX_RECORD_BYTES })).bytes;
  try {
    const text = decodeUtf8Strict(bytes, file);
    let json: unknown = text;
    try {
      json = JSON.parse(text);
    } catch {
      /* parseResultRecord says it is not JSON */
    }
    // ppl / eval / prune --json print their numbers with the record under `result`.
    const inner = (json as { format?: unknown; result?: { format?: unknown } } | null)?.result;
    if (typeof json === 'object' && json !== null && (json as { format?: unknown }).format === undefined && inner?.format === 'polyprune-result') json = inner;
    return parseResultRecord(json);
  } catch (e) {
    throw new PolyPruneError('BAD_ARGUMENT', `'${file}': ${(e as Error).message}`);
  }
}

function checkBase(base: string): string {
  let u: URL;
  try {
    u = new URL(base);
  } catch {
    throw new PolyPruneError('BAD_ARGUMENT', `--base must be the app's URL, like ${DEFAULT_APP_URL} (got '${base}').`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new PolyPruneError('BAD_ARGUMENT', `--base must be an http(s) URL (got '${base}').`);
  u.hash = '';
  return u.href;
}

/** A copy of `v` with every string's control characters escaped (terminal escapes in names). */
export function escapeStrings<T>(v: T): T {
  if (typeof v === 'string') return escapeControls(v) as T;
  if (Array.isArray(v)) return v.map(escapeStrings) as T;
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, escapeStrings(x)])) as T;
  return v;
}

const omittedNote = (o: OmittedDetail[]): string => `left out to fit the link: ${o.map((x) => OMITTED_TEXT[x]).join(', ')}`;

/** The record as text: provenance, then its tables. */
export function describeRecord(rec: ResultRecord, omitted: OmittedDetail[] = []): string {
  const out = [
    `${rec.kind} result, PolyPrune ${rec.tool.version}, ${rec.created}`,
    `model     ${rec.model.name} (${rec.model.source}), sha256 ${rec.model.sha256}`,
    `adapter   ${rec.adapter}`,
  ];
  if (omitted.length) out.push(`note      ${omittedNote(omitted)}`);
  const fmt = (x: number | null, d: number) => (x === null ? '—' : x.toFixed(d));
  switch (rec.kind) {
    case 'perplexity':
      out.push(`text      ${rec.text.name} (${rec.text.bytes} bytes, sha256 ${rec.text.sha256})`, `settings  seqlen ${rec.settings.seqlen}, stride ${rec.settings.stride ?? 'none'}, max windows ${rec.settings.maxWindows ?? 'all'}`);
      out.push('', `perplexity ${fmt(rec.result.ppl, 4)}  bits per byte ${fmt(rec.result.bpb, 4)}  mean NLL ${fmt(rec.result.meanNll, 4)}  (${rec.result.tokens} tokens, ${rec.result.windows} windows)`);
      break;
    case 'task':
      out.push(`task      ${rec.settings.task} (${rec.settings.language}), file ${rec.file.name} (sha256 ${rec.file.sha256})`);
      out.push('', `acc ${fmt(rec.result.acc, 4)} ± ${fmt(rec.result.acc_stderr, 4)}  acc_norm ${fmt(rec.result.acc_norm ?? null, 4)}  (${rec.result.n} items)`);
      break;
    case 'prune':
      out.push(`method    ${rec.spec.method} ${rec.spec.nm ? `${rec.spec.nm.n}:${rec.spec.nm.m}` : rec.spec.sparsity}, ${rec.spec.nsamples ?? 0} windows of ${rec.spec.seqlen ?? 0}, seed ${rec.spec.seed ?? '-'}`);
      for (const c of rec.calibration) out.push(`calib     ${c.name} (${c.language ?? '?'}, ${c.bytes} bytes, sha256 ${c.sha256})`);
      out.push('', `overall sparsity ${(rec.overall * 100).toFixed(2)} %`);
      break;
    case 'experiment': {
      const s = rec.spec;
      out.push(`settings  ${s.method} ${s.nm ? `${s.nm.n}:${s.nm.m}` : `${s.sparsity * 100} %`}, ${s.nsamples} calibration windows of ${s.seqlen} tokens, seeds ${s.seeds.join(',')}, evaluation windows of ${s.evalSeqlen}${s.evalMaxWindows ? ` (at most ${s.evalMaxWindows})` : ''}`);
      for (const r of rec.rows.slice(1)) for (const c of r.sources) out.push(`calib     ${r.label}: ${c.name} (${c.bytes} bytes, sha256 ${c.sha256})`);
      if (!rec.complete) out.push(`status    incomplete${rec.note ? `: ${rec.note}` : ''}`);
      out.push('', 'perplexity (rows: calibration, columns: evaluation language; bold = best calibration)', '', studyMarkdown(rec, 'ppl'), '', 'bits per byte', '', studyMarkdown(rec, 'bpb'));
      const T = Math.max(0, ...rec.columns.map((c) => c.tasks.length));
      for (let t = 0; t < T; t++) out.push('', `task ${t + 1}: accuracy`, '', studyMarkdown(rec, { task: t }));
      const sp = rec.rows.slice(1).map((r) => `${r.label} ${meanSpread(r.sparsity)?.mean.toFixed(4) ?? '—'}`);
      out.push('', `sparsity reached: ${sp.join(', ')}`);
      break;
    }
  }
  return out.join('\n');
}

export function registerShare(program: Command): void {
  program
    .command('share')
    .description('Print the share link of a result written with --json (the result travels in the link\'s #fragment).')
    .argument('<record.json>', 'result file (e.g. from polyprune grid --json)')
    .option('--base <app url>', 'URL of the PolyPrune app the link opens', DEFAULT_APP_URL)
    .action(async (file: string, o: { base: string }) => {
      const base = checkBase(o.base);
      const rec = await readRecordFile(file);
      const { link, omitted } = recordShareLink(rec, base);
      if (omitted.length) console.error(`polyprune: ${omittedNote(omitted)} (the file keeps them).`);
      console.log(link);
    });

  program
    .command('show')
    .description('Print the tables of a share link or a result file.')
    .argument('<link|record.json>', 'a share link (with #r=...) or a result file')
    .option('--json', 'print the record as JSON')
    .action(async (what: string, o: { json?: boolean }) => {
      const shared = /^https?:\/\/|#r=|^r=/.test(what) ? decodeRecordLink(what) : { record: await readRecordFile(what), omitted: [] as OmittedDetail[] };
      // names from a link or file reach the terminal with their control characters escaped
      console.log(o.json ? JSON.stringify(shared.record, null, 2) : describeRecord(escapeStrings(shared.record), shared.omitted));
    });
}

/**
 * Hub data for the CLI: `--calib hub:<corpus>:<lang>` (and `--eval hub:...` in grid), lm-eval tasks by
 * name without `--data`, with a disk cache (`--cache-dir`, default under the user's cache folder;
 * `--no-cache`) and `--offline`. HF_ENDPOINT and HF_TOKEN as for models. What was read (dataset,
 * commit sha, files, offset, bytes, SHA-256) is printed on stderr.
 */
import type { Command } from 'commander';
import { PolyPruneError } from '../common/errors';
import { toIso6391 } from '../common/languages';
import { corpusSpecString, fetchCorpusText, fetchTextAgain, hubTextRef, parseCorpusSpec, type CorpusSpec, type CorpusText, type CorpusTextOptions, type HubTextRef } from '../io/datasets/corpus';
import { defaultDatasetCacheDir, diskDatasetCache } from '../io/datasets/diskCache';
import { fetchTaskRows, lmEvalDataset, type TaskRows } from '../io/datasets/taskData';
import { parseIntArg } from './main';

export interface HubCliOptions {
  cacheDir?: string;
  cache?: boolean;
  offline?: boolean;
  hubOffset?: number;
  json?: boolean;
}

export function addHubOptions(cmd: Command): Command {
  return cmd
    .option('--cache-dir <dir>', `where Hub datasets are kept (default ${defaultDatasetCacheDir()})`)
    .option('--no-cache', 'keep no Hub data on disk')
    .option('--offline', 'read Hub data only from the cache (nothing from the network)')
    .option('--hub-offset <n>', 'documents of a hub: corpus to skip before the first one used', parseIntArg('--hub-offset', 0), 0);
}

export const isHubSource = (arg: string): boolean => arg.startsWith('hub:');

function baseOptions(o: HubCliOptions): Omit<CorpusTextOptions, 'bytes'> {
  if (o.offline && o.cache === false) throw new PolyPruneError('BAD_ARGUMENT', '--offline reads from the cache; drop --no-cache.');
  return {
    endpoint: process.env.HF_ENDPOINT || undefined,
    token: process.env.HF_TOKEN || undefined,
    cache: o.cache === false ? undefined : diskDatasetCache(o.cacheDir ?? defaultDatasetCacheDir()),
    offline: o.offline,
    offset: o.hubOffset ?? 0,
    onCacheFull: (m) => process.stderr.write(`polyprune: warning: ${m}\n`),
  };
}

/** UTF-8 bytes of text asked for `windows` windows of `seqlen` tokens: about 4 bytes a token, at least 16 KiB. */
export function textBytesFor(windows: number, seqlen: number): number {
  return Math.max(16 * 1024, windows * seqlen * 4);
}

/** A short name for records: `mc4:de@1ddc917116b7+0`. */
export function hubTextName(t: CorpusText): string {
  return `hub:${t.provenance.spec}@${t.provenance.sha.slice(0, 12)}+${t.provenance.offset}`;
}

/** `hub:<corpus>:<lang>` -> text, with its provenance on stderr. */
export async function hubText(arg: string, bytes: number, o: HubCliOptions): Promise<CorpusText & { language?: string; name: string }> {
  const spec = parseCorpusSpec(arg.replace(/^hub:/, ''));
  const t = await fetchCorpusText(spec, { ...baseOptions(o), bytes });
  const p = t.provenance;
  process.stderr.write(
    `polyprune: ${p.spec}: ${p.documents} documents from ${p.dataset}@${p.sha.slice(0, 12)} (${p.files.map((f) => `${f.file} from document ${f.firstDocument}`).join(', ')}), ` +
      `${p.textBytes} bytes of text, ${t.cached ? 'from the cache' : `${p.bytesRead} bytes downloaded`}, SHA-256 ${p.sha256.slice(0, 16)}\n`,
  );
  return { ...t, language: languageOfSpec(spec), name: hubTextName(t) };
}

/** A corpus's language, ISO 639-1 where one exists: wikipedia's dated configs lose the date, FineWeb-2's deu_Latn is de. */
function languageOfSpec(spec: CorpusSpec): string | undefined {
  const raw = spec.kind === 'dataset' ? undefined : spec.language!.replace(/^\d{8}\./, '');
  return raw && /^[a-z]{3}_[A-Z][a-z]{3}$/.test(raw) ? toIso6391(raw.slice(0, 3)) : raw;
}

/** A Hub text a record read: its name, SHA-256 and provenance (SourceRef of src/experiment/records). */
export interface RecordedHubText {
  name: string;
  sha256: string;
  hub?: HubTextRef;
}

/**
 * `hub:<corpus>:<lang>` of a resumed run (`grid --resume`): when the record read that corpus at this
 * --hub-offset, exactly its text again (its commit sha, offset and bytes, not the branch as it is
 * now), checked against the record's SHA-256 (HASH_MISMATCH in one line when the files changed);
 * a corpus the record does not hold is read as new. The recorded name and provenance are kept.
 */
export async function hubTextResumed(arg: string, bytes: number, o: HubCliOptions, recorded: readonly RecordedHubText[], what: string): Promise<CorpusText & { language?: string; name: string; hub: HubTextRef }> {
  const specString = corpusSpecString(parseCorpusSpec(arg.replace(/^hub:/, '')));
  const r = recorded.find((x) => x.hub && x.hub.spec === specString && x.hub.offset === (o.hubOffset ?? 0));
  if (!r?.hub) {
    const fresh = await hubText(arg, bytes, o);
    return { ...fresh, hub: hubTextRef(fresh.provenance) };
  }
  const ref = r.hub;
  const { offset: _offset, ...opts } = baseOptions(o);
  let t: CorpusText;
  try {
    t = await fetchTextAgain(ref, r.sha256, opts);
  } catch (e) {
    if (e instanceof PolyPruneError) throw new PolyPruneError(e.code, `${what}: ${e.message}`);
    throw e;
  }
  process.stderr.write(`polyprune: ${ref.spec}: the record's text again from ${ref.dataset}@${ref.sha.slice(0, 12)} (documents from offset ${ref.offset}, ${ref.bytes} bytes), ${t.cached ? 'from the cache' : `${t.provenance.bytesRead} bytes downloaded`}, SHA-256 ${t.provenance.sha256.slice(0, 16)} as recorded\n`);
  return { ...t, language: languageOfSpec(parseCorpusSpec(ref.spec)), name: r.name, hub: ref };
}

/** The rows of an lm-eval task's dataset (the split lm-eval scores), as JSON lines. */
export async function hubTaskRows(format: string, lmEvalLanguage: string, o: HubCliOptions): Promise<TaskRows> {
  const ds = lmEvalDataset(format, lmEvalLanguage);
  const r = await fetchTaskRows(ds, baseOptions(o));
  process.stderr.write(`polyprune: ${format}_${lmEvalLanguage}: ${r.rows} items from ${ds.repo} ${ds.config}/${ds.split}@${r.provenance.sha.slice(0, 12)}, ${r.cached ? 'from the cache' : `${r.provenance.bytesRead} bytes downloaded`}\n`);
  return r;
}

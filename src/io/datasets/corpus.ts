/**
 * Calibration and held-out text from Hugging Face Hub corpora, by language:
 * - `mc4:<lang>`: mC4 as Kurz et al. (and wanda's C4 loader) read it, `allenai/c4`'s
 *   `multilingual/c4-<lang>.tfrecord-<i>-of-<n>.json.gz` (validation: `c4-<lang>-validation...`);
 * - `fineweb2:<lang>`: `HuggingFaceFW/fineweb-2`, parquet under `data/<lang>_<Script>/<split>/`;
 * - `wikipedia:<lang>`: `wikimedia/wikipedia`, parquet under `<date>.<lang>/` (newest date unless a
 *   dated config such as `20231101.de` is given);
 * - `<org>/<name>:<config>[:<split>[:<column>]]`: any dataset through the Hub's parquet conversion
 *   (branch `refs/convert/parquet`, files `<config>/<split>/*.parquet`).
 * Documents are taken in the dataset's order (files sorted by name, rows in file order) from a
 * document offset, until the text holds the bytes asked for; documents are joined by a blank line.
 * The provenance names dataset, revision and commit sha, files, offset, documents, bytes read and
 * the SHA-256 of the text, so the same settings give the same text again.
 */
import { PolyPruneError } from '../../common/errors';
import { datasetFileUrl, datasetHttpError, hubFetch, listDatasetFolder, resolveDatasetRevision, type DatasetHubOptions, type DatasetRef, type TreeEntry } from './hubApi';
import { getJson, putJson, sha256HexOf, type DatasetCache } from './cache';
import { jsonGzDocuments, parquetDocuments, rangeBuffer, type ReadContext } from './readers';

export type CorpusKind = 'mc4' | 'fineweb2' | 'wikipedia' | 'dataset';

export interface CorpusSpec {
  kind: CorpusKind;
  /** `org/name` on the Hub */
  repo: string;
  /** Branch, tag or commit asked for (`main`; `refs/convert/parquet` for `dataset`). */
  revision: string;
  /** Language as given (mc4, fineweb2, wikipedia). */
  language?: string;
  /** Dataset config (`dataset`). */
  config?: string;
  split: string;
  column: string;
}

export const CORPORA: Readonly<Record<Exclude<CorpusKind, 'dataset'>, { repo: string; label: string; format: 'json.gz' | 'parquet' }>> = {
  mc4: { repo: 'allenai/c4', label: 'mC4 (allenai/c4, multilingual)', format: 'json.gz' },
  fineweb2: { repo: 'HuggingFaceFW/fineweb-2', label: 'FineWeb-2', format: 'parquet' },
  wikipedia: { repo: 'wikimedia/wikipedia', label: 'Wikipedia (wikimedia/wikipedia)', format: 'parquet' },
};

/**
 * mC4's shards per language and split (train, validation), as allenai/c4 publishes them (the table of
 * AllenAI's mC4 loading script). Shard names carry the count, so the files are known without listing
 * a folder of some 30,000 files.
 */
export const MC4_SHARDS: Readonly<Record<string, readonly [number, number]>> = {
  af: [64, 1], am: [16, 1], ar: [1024, 4], az: [256, 1], be: [128, 1], bg: [1024, 1], 'bg-Latn': [4, 1], bn: [512, 1],
  ca: [512, 1], ceb: [8, 1], co: [8, 1], cs: [1024, 2], cy: [256, 1], da: [1024, 1], de: [2048, 16], el: [1024, 2],
  'el-Latn': [16, 1], en: [11264, 128], eo: [32, 1], es: [2048, 16], et: [256, 1], eu: [64, 1], fa: [1024, 2], fi: [1024, 1],
  fil: [64, 1], fr: [2048, 16], fy: [16, 1], ga: [16, 1], gd: [16, 1], gl: [128, 1], gu: [64, 1], ha: [8, 1], haw: [2, 1],
  hi: [1024, 2], 'hi-Latn': [16, 1], hmn: [8, 1], ht: [8, 1], hu: [1024, 2], hy: [128, 1], id: [1024, 4], ig: [4, 1],
  is: [128, 1], it: [1024, 8], iw: [1024, 1], ja: [1024, 8], 'ja-Latn': [8, 1], jv: [8, 1], ka: [256, 1], kk: [256, 1],
  km: [64, 1], kn: [64, 1], ko: [1024, 1], ku: [16, 1], ky: [64, 1], la: [64, 1], lb: [32, 1], lo: [8, 1], lt: [512, 1],
  lv: [256, 1], mg: [8, 1], mi: [4, 1], mk: [128, 1], ml: [128, 1], mn: [128, 1], mr: [1024, 1], ms: [512, 1], mt: [128, 1],
  my: [64, 1], ne: [256, 1], nl: [1024, 4], no: [1024, 1], ny: [4, 1], pa: [32, 1], pl: [1024, 4], ps: [16, 1], pt: [1024, 4],
  ro: [1024, 2], ru: [4096, 32], 'ru-Latn': [32, 1], sd: [64, 1], si: [64, 1], sk: [512, 1], sl: [256, 1], sm: [4, 1],
  sn: [8, 1], so: [64, 1], sq: [128, 1], sr: [256, 1], st: [2, 1], su: [4, 1], sv: [1024, 2], sw: [32, 1], ta: [256, 1],
  te: [128, 1], tg: [64, 1], th: [1024, 1], tr: [1024, 4], uk: [1024, 2], und: [3072, 32], ur: [128, 1], uz: [32, 1],
  vi: [1024, 4], xh: [2, 1], yi: [16, 1], yo: [2, 1], zh: [1024, 2], 'zh-Latn': [8, 1], zu: [8, 1],
};

/** FineWeb-2 configs for ISO 639-1 codes (FineWeb-2 names languages by ISO 639-3 and script). */
export const FINEWEB2_CONFIGS: Readonly<Record<string, string>> = {
  ar: 'arb_Arab', de: 'deu_Latn', es: 'spa_Latn', fr: 'fra_Latn', it: 'ita_Latn', ja: 'jpn_Jpan', pt: 'por_Latn',
  ru: 'rus_Cyrl', sw: 'swh_Latn', zh: 'cmn_Hani', tr: 'tur_Latn', vi: 'vie_Latn', id: 'ind_Latn', nl: 'nld_Latn',
  pl: 'pol_Latn', ko: 'kor_Hang', hi: 'hin_Deva', th: 'tha_Thai', uk: 'ukr_Cyrl', cs: 'ces_Latn', fa: 'pes_Arab',
};

const ALIASES: Record<string, Exclude<CorpusKind, 'dataset'>> = {
  mc4: 'mc4', 'allenai/c4': 'mc4', c4: 'mc4',
  fineweb2: 'fineweb2', 'fineweb-2': 'fineweb2', 'huggingfacefw/fineweb-2': 'fineweb2',
  wikipedia: 'wikipedia', 'wikimedia/wikipedia': 'wikipedia',
};

const SPEC_HELP = "Expected mc4:<lang>, fineweb2:<lang>, wikipedia:<lang> (each optionally :<split>), or <org>/<name>:<config>[:<split>[:<column>]] (e.g. mc4:de, wikipedia:20231101.sw, mc4:de:validation, cambridgeltl/xcopa:it:test:premise).";

/** Parses a corpus spec (the part after `hub:`). */
export function parseCorpusSpec(spec: string): CorpusSpec {
  const s = spec.trim().replace(/^hub:/, '');
  const parts = s.split(':');
  const [head, ...rest] = parts;
  const at = head.indexOf('@');
  const name = at >= 0 ? head.slice(0, at) : head;
  const revision = at >= 0 ? head.slice(at + 1) : undefined;
  if (!name || rest.some((p) => !p) || (at >= 0 && !revision)) throw new PolyPruneError('BAD_ARGUMENT', `'${spec}' is not a Hub corpus. ${SPEC_HELP}`);
  const kind = ALIASES[name.toLowerCase()];
  if (kind) {
    if (rest.length < 1 || rest.length > 2) throw new PolyPruneError('BAD_ARGUMENT', `'${spec}': which language? ${SPEC_HELP}`);
    return { kind, repo: CORPORA[kind].repo, revision: revision ?? 'main', language: rest[0], split: rest[1] ?? 'train', column: 'text' };
  }
  if (!/^[A-Za-z0-9][\w.-]*\/[\w.-]+$/.test(name) || rest.length < 1 || rest.length > 3) throw new PolyPruneError('BAD_ARGUMENT', `'${spec}' is not a Hub corpus. ${SPEC_HELP}`);
  return { kind: 'dataset', repo: name, revision: revision ?? 'refs/convert/parquet', config: rest[0], split: rest[1] ?? 'train', column: rest[2] ?? 'text' };
}

/** The spec written back (what a record or link stores). */
export function corpusSpecString(c: CorpusSpec): string {
  const rev = c.kind === 'dataset' ? (c.revision === 'refs/convert/parquet' ? '' : `@${c.revision}`) : c.revision === 'main' ? '' : `@${c.revision}`;
  if (c.kind === 'dataset') return `${c.repo}${rev}:${c.config}:${c.split}:${c.column}`;
  return `${c.kind}${rev}:${c.language}${c.split === 'train' ? '' : `:${c.split}`}`;
}

export interface FileUse {
  file: string;
  /** Index of the first document used in this file. */
  firstDocument: number;
  documents: number;
  /** Bytes received for this file (compressed). */
  bytesRead: number;
}

export interface TextProvenance {
  /** `hub:` spec as given after parsing, e.g. `mc4:de`. */
  spec: string;
  dataset: string;
  revision: string;
  sha: string;
  split: string;
  column: string;
  language?: string;
  config?: string;
  /** Documents skipped before the first one used (dataset order). */
  offset: number;
  documents: number;
  files: FileUse[];
  /** UTF-8 bytes of the text. */
  textBytes: number;
  /** Bytes received from the network for it. */
  bytesRead: number;
  sha256: string;
}

export interface CorpusText {
  text: string;
  provenance: TextProvenance;
  /** True when it came from the cache (nothing downloaded). */
  cached: boolean;
}

export interface CorpusTextOptions extends DatasetHubOptions {
  /** Documents to skip first (default 0). */
  offset?: number;
  /** UTF-8 bytes wanted; documents are added until the text reaches it. */
  bytes: number;
  cache?: DatasetCache;
  /** Read only from the cache; FILE_NOT_FOUND naming what is missing otherwise. */
  offline?: boolean;
  /** Told once when the cache refuses an entry for lack of space (the text is still returned). */
  onCacheFull?: (message: string) => void;
  /** Told the number of bytes received, as they arrive. */
  onBytes?: (n: number) => void;
}

/** Joins documents; between two documents a blank line. */
export const DOCUMENT_SEPARATOR = '\n\n';

/** `f` called at most once (a full cache is told once per request). */
export function once<A extends unknown[]>(f?: (...a: A) => void): ((...a: A) => void) | undefined {
  if (!f) return undefined;
  let done = false;
  return (...a) => {
    if (done) return;
    done = true;
    f(...a);
  };
}

function offlineMiss(what: string): PolyPruneError {
  return new PolyPruneError('FILE_NOT_FOUND', `Offline, and ${what} is not in the dataset cache. Run once without --offline (or with the network) to fetch it.`);
}

/** Resolves a revision, or offline reads the sha kept from an earlier run. */
export async function resolveRevision(repo: string, revision: string, opts: Pick<CorpusTextOptions, 'cache' | 'offline' | 'onCacheFull'> & DatasetHubOptions): Promise<DatasetRef> {
  const key = `rev:${repo}@${revision}`;
  if (/^[0-9a-f]{40}$/.test(revision) && opts.offline) return { repo, revision, sha: revision };
  if (opts.offline) {
    const sha = await getJson<string>(opts.cache, key);
    if (!sha) throw offlineMiss(`the revision '${revision}' of ${repo}`);
    return { repo, revision, sha };
  }
  const ref = await resolveDatasetRevision(repo, revision, opts);
  await putJson(opts.cache, key, ref.sha, cacheFull(opts));
  return ref;
}

/** A folder listing at a sha, from the cache when it was listed before (a sha never changes). */
export async function listFolderCached(ref: DatasetRef, folder: string, opts: Pick<CorpusTextOptions, 'cache' | 'offline' | 'onCacheFull'> & DatasetHubOptions): Promise<TreeEntry[]> {
  const key = `tree:${ref.repo}@${ref.sha}/${folder}`;
  const hit = await getJson<TreeEntry[]>(opts.cache, key);
  if (hit) return hit;
  if (opts.offline) throw offlineMiss(`the file list of ${ref.repo}/${folder}`);
  const list = await listDatasetFolder(ref, folder, opts);
  await putJson(opts.cache, key, list, cacheFull(opts));
  return list;
}

function cacheFull(opts: { onCacheFull?: (m: string) => void }): (e: unknown) => void {
  return (e) => {
    opts.onCacheFull?.(`The dataset cache is full (${(e as Error)?.message ?? String(e)}); this download is used but not kept. Clear the cache or give it more room.`);
  };
}

async function tryList(ref: DatasetRef, folder: string, opts: CorpusTextOptions): Promise<TreeEntry[] | null> {
  try {
    return await listFolderCached(ref, folder, opts);
  } catch (e) {
    if ((e as PolyPruneError)?.code === 'FILE_NOT_FOUND' && !opts.offline) return null;
    throw e;
  }
}

const folderNames = (entries: TreeEntry[]) => entries.filter((e) => e.type === 'directory').map((e) => e.path.split('/').pop()!);

function listLine(names: string[], max = 60): string {
  return names.length <= max ? names.join(', ') : `${names.slice(0, max).join(', ')}, ... (${names.length} in all)`;
}

interface Plan {
  format: 'json.gz' | 'parquet';
  files: { path: string; size?: number }[];
  config?: string;
}

/** The files of a spec, in dataset order; names the languages, configs or splits there are when one is missing. */
async function planFiles(spec: CorpusSpec, ref: DatasetRef, opts: CorpusTextOptions): Promise<Plan> {
  if (spec.kind === 'mc4') {
    const lang = spec.language!;
    const n = MC4_SHARDS[lang];
    if (!n) throw new PolyPruneError('BAD_ARGUMENT', `mC4 has no language '${lang}'. It has: ${Object.keys(MC4_SHARDS).join(', ')}.`);
    if (spec.split !== 'train' && spec.split !== 'validation') throw new PolyPruneError('BAD_ARGUMENT', `mC4 has the splits train and validation, not '${spec.split}'.`);
    const count = spec.split === 'train' ? n[0] : n[1];
    const pad = (i: number) => String(i).padStart(5, '0');
    const files = Array.from({ length: count }, (_, i) => ({ path: `multilingual/c4-${lang}${spec.split === 'validation' ? '-validation' : ''}.tfrecord-${pad(i)}-of-${pad(count)}.json.gz` }));
    return { format: 'json.gz', files };
  }
  if (spec.kind === 'fineweb2') {
    const lang = spec.language!;
    const config = /^[a-z]{3}_[A-Z][a-z]{3}$/.test(lang) ? lang : FINEWEB2_CONFIGS[lang];
    if (!config) {
      const all = folderNames(await listFolderCached(ref, 'data', opts));
      throw new PolyPruneError('BAD_ARGUMENT', `FineWeb-2 has no language '${lang}'${lang === 'en' ? ' (it has no English: use mc4:en)' : ''}; name it by ISO 639-3 code and script, e.g. deu_Latn. It has: ${listLine(all)}.`);
    }
    const folder = `data/${config}/${spec.split}`;
    const list = await tryList(ref, folder, opts);
    if (!list) {
      const all = folderNames(await listFolderCached(ref, 'data', opts));
      if (!all.includes(config)) throw new PolyPruneError('BAD_ARGUMENT', `FineWeb-2 has no language '${config}'. It has: ${listLine(all.filter((c) => c.startsWith(config.slice(0, 3))).concat(all.filter((c) => !c.startsWith(config.slice(0, 3)))))}.`);
      const splits = folderNames(await listFolderCached(ref, `data/${config}`, opts));
      throw new PolyPruneError('BAD_ARGUMENT', `FineWeb-2 ${config} has no split '${spec.split}'. Splits: ${splits.join(', ')}.`);
    }
    return { format: 'parquet', files: parquetFiles(list), config };
  }
  if (spec.kind === 'wikipedia') {
    const lang = spec.language!;
    let config = /^\d{8}\./.test(lang) ? lang : undefined;
    const root = folderNames(await listFolderCached(ref, '', opts)).filter((n) => /^\d{8}\./.test(n));
    if (!config) {
      const dated = root.filter((n) => n.slice(9) === lang).sort();
      config = dated.pop();
    }
    if (!config || !root.includes(config)) {
      const langs = [...new Set(root.map((n) => n.slice(9)))].sort();
      throw new PolyPruneError('BAD_ARGUMENT', `Wikipedia (${spec.repo}) has no language '${lang}'. It has: ${listLine(langs, 400)}.`);
    }
    if (spec.split !== 'train') throw new PolyPruneError('BAD_ARGUMENT', `Wikipedia has only the split train, not '${spec.split}'.`);
    const list = await listFolderCached(ref, config, opts);
    return { format: 'parquet', files: parquetFiles(list.filter((e) => e.path.split('/').pop()!.startsWith(`${spec.split}-`))), config };
  }
  // any dataset, through the Hub's parquet conversion: <config>/<split>/*.parquet
  const config = spec.config!;
  let list = await tryList(ref, `${config}/${spec.split}`, opts);
  if (!list) list = await tryList(ref, `${config}/partial-${spec.split}`, opts);
  if (!list) {
    const configs = folderNames(await listFolderCached(ref, '', opts));
    if (!configs.includes(config)) throw new PolyPruneError('BAD_ARGUMENT', `The dataset ${spec.repo} has no config '${config}'. Configs: ${listLine(configs, 200)}.`);
    const splits = folderNames(await listFolderCached(ref, config, opts)).map((s) => s.replace(/^partial-/, ''));
    throw new PolyPruneError('BAD_ARGUMENT', `The dataset ${spec.repo} (config ${config}) has no split '${spec.split}'. Splits: ${splits.join(', ')}.`);
  }
  return { format: 'parquet', files: parquetFiles(list), config };
}

function parquetFiles(list: TreeEntry[]): { path: string; size: number }[] {
  return list
    .filter((e) => e.type === 'file' && e.path.endsWith('.parquet'))
    .sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))
    .map((e) => ({ path: e.path, size: e.size }));
}

function textKey(spec: CorpusSpec, sha: string, offset: number, bytes: number): string {
  return `text:${spec.repo}@${sha}|${spec.kind}|${spec.language ?? spec.config}|${spec.split}|${spec.column}|${offset}|${bytes}`;
}

/**
 * Text from a corpus: documents in dataset order from `offset` until the text has `bytes` UTF-8
 * bytes (or the corpus ends). Reads only what those documents need; keeps the text (with its
 * provenance) in the cache, verified by its SHA-256 when read back.
 */
export async function fetchCorpusText(specIn: CorpusSpec | string, optsIn: CorpusTextOptions): Promise<CorpusText> {
  const opts = { ...optsIn, onCacheFull: once(optsIn.onCacheFull) };
  const spec = typeof specIn === 'string' ? parseCorpusSpec(specIn) : specIn;
  const offset = opts.offset ?? 0;
  if (!Number.isSafeInteger(offset) || offset < 0) throw new PolyPruneError('BAD_ARGUMENT', `The document offset must be a whole number >= 0, got ${offset}.`);
  if (!(opts.bytes > 0)) throw new PolyPruneError('BAD_ARGUMENT', `The amount of text must be a positive number of bytes, got ${opts.bytes}.`);
  const ref = await resolveRevision(spec.repo, spec.revision, opts);
  const key = textKey(spec, ref.sha, offset, opts.bytes);
  const hit = await getJson<{ text: string; provenance: TextProvenance }>(opts.cache, key);
  if (hit && typeof hit.text === 'string' && hit.provenance && (await sha256HexOf(hit.text)) === hit.provenance.sha256) {
    return { text: hit.text, provenance: hit.provenance, cached: true };
  }
  if (opts.offline) throw offlineMiss(`text of ${corpusSpecString(spec)} (offset ${offset}, ${opts.bytes} bytes) at ${ref.sha.slice(0, 12)}`);
  const plan = await planFiles(spec, ref, opts);
  const { fetchFn, headers, endpoint } = hubFetch(opts);
  const docs: string[] = [];
  let textBytes = 0;
  let skipped = 0;
  let total = 0;
  const files: FileUse[] = [];
  const enc = new TextEncoder();
  outer: for (const f of plan.files) {
    let fileBytes = 0;
    const ctx: ReadContext = {
      fetchFn,
      headers,
      signal: opts.signal,
      onBytes: (n) => {
        fileBytes += n;
        opts.onBytes?.(n);
      },
      refused: (res) => datasetHttpError(spec.repo, ref.revision, res, endpoint, Boolean(opts.token), `file ${f.path}`),
    };
    const url = datasetFileUrl(ref, f.path, endpoint);
    const name = `${spec.repo}/${f.path}`;
    const it = plan.format === 'json.gz' ? jsonGzDocuments(url, name, spec.column, ctx) : parquetDocuments(rangeBuffer(url, name, f.size!, ctx), name, spec.column);
    let index = 0;
    let first = -1;
    let used = 0;
    try {
      for await (const d of it) {
        if (skipped < offset) {
          skipped++;
          index++;
          continue;
        }
        if (first < 0) first = index;
        docs.push(d);
        used++;
        index++;
        textBytes += enc.encode(d).byteLength + (docs.length > 1 ? DOCUMENT_SEPARATOR.length : 0);
        if (textBytes >= opts.bytes) break;
      }
    } finally {
      await it.return(undefined);
      if (fileBytes > 0 || used > 0) files.push({ file: f.path, firstDocument: Math.max(first, 0), documents: used, bytesRead: fileBytes });
      total += fileBytes;
    }
    if (textBytes >= opts.bytes) break outer;
  }
  if (docs.length === 0) {
    throw new PolyPruneError('CALIBRATION_INVALID', `${corpusSpecString(spec)} has no documents after offset ${offset} (${skipped} documents in its files); use a smaller offset.`);
  }
  const text = docs.join(DOCUMENT_SEPARATOR);
  const provenance: TextProvenance = {
    spec: corpusSpecString(spec),
    dataset: spec.repo,
    revision: spec.revision,
    sha: ref.sha,
    split: spec.split,
    column: spec.column,
    ...(spec.language ? { language: spec.language } : {}),
    ...(plan.config ? { config: plan.config } : {}),
    offset,
    documents: docs.length,
    files,
    textBytes: enc.encode(text).byteLength,
    bytesRead: total,
    sha256: await sha256HexOf(text),
  };
  await putJson(opts.cache, key, { text, provenance }, cacheFull(opts));
  return { text, provenance, cached: false };
}

/** Where a Hub text came from, as records and share links keep it: enough to fetch exactly that text again. */
export interface HubTextRef {
  /** The corpus spec as parsed (`mc4:de`, `org/name:config:split:column`). */
  spec: string;
  dataset: string;
  /** The commit sha the files were read at. */
  sha: string;
  /** Documents skipped first, and the UTF-8 bytes of the text (asking for them gives the same documents). */
  offset: number;
  bytes: number;
  /** The files the documents came from (for messages). */
  files: string[];
}

export function hubTextRef(p: TextProvenance): HubTextRef {
  return { spec: p.spec, dataset: p.dataset, sha: p.sha, offset: p.offset, bytes: p.textBytes, files: p.files.filter((f) => f.documents > 0).map((f) => f.file) };
}

/**
 * The text a record names by its Hub provenance, fetched again at the same commit, offset and size,
 * and checked against the record's SHA-256: a mismatch is HASH_MISMATCH saying what was asked for.
 */
export async function fetchTextAgain(ref: HubTextRef, sha256: string, opts: Omit<CorpusTextOptions, 'bytes' | 'offset'>): Promise<CorpusText> {
  const spec = { ...parseCorpusSpec(ref.spec), revision: ref.sha };
  const t = await fetchCorpusText(spec, { ...opts, offset: ref.offset, bytes: ref.bytes });
  if (t.provenance.sha256 !== sha256) {
    throw new PolyPruneError(
      'HASH_MISMATCH',
      `The text of hub:${ref.spec} fetched again from ${ref.dataset}@${ref.sha.slice(0, 12)} (documents from offset ${ref.offset}, ${ref.bytes.toLocaleString('en-US')} bytes${ref.files.length ? `, ${ref.files.join(', ')}` : ''}) has SHA-256 ${t.provenance.sha256.slice(0, 12)}…, but the record needs ${sha256.slice(0, 12)}…: those files are not the ones the record read. Give the text as a file instead.`,
    );
  }
  return t;
}


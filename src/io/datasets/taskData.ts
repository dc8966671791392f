/**
 * The data of lm-evaluation-harness's multilingual tasks, from the dataset and split lm-eval scores
 * (its task YAML files: `dataset_path`, `dataset_name`, and `test_split`, else `validation_split`),
 * read through the Hub's parquet conversion (branch `refs/convert/parquet`, files
 * `<config>/<split>/*.parquet`). The rows come out as JSON lines with the dataset's own fields, the
 * input the task formats of src/eval/tasks already read from a local file, so a task scored from the
 * Hub and from the same items in a JSONL file gives the same numbers.
 */
import { PolyPruneError } from '../../common/errors';
import { getJson, putJson, sha256HexOf } from './cache';
import { datasetFileUrl, datasetHttpError, hubFetch, type DatasetRef } from './hubApi';
import { listFolderCached, once, resolveRevision, type CorpusTextOptions } from './corpus';
import { checkColumns, parquetMeta, parquetRowGroup, rangeBuffer } from './readers';

export interface LmEvalDataset {
  repo: string;
  /** Dataset config (lm-eval's `dataset_name`). */
  config: string;
  /** The split lm-eval scores. */
  split: string;
}

/** Per task format: the Hub dataset, and the split lm-eval scores (source: lm_eval/tasks/<task>/*.yaml). */
export const LM_EVAL_DATASETS: Readonly<Record<string, { repo: string; split: string; yaml: string }>> = {
  xcopa: { repo: 'cambridgeltl/xcopa', split: 'test', yaml: 'xcopa/default_<lang>.yaml (dataset_path xcopa, the Hub id of which is cambridgeltl/xcopa; test_split test)' },
  xnli: { repo: 'facebook/xnli', split: 'validation', yaml: 'xnli/xnli_common_yaml (validation_split validation; no test_split)' },
  xstorycloze: { repo: 'juletxara/xstory_cloze', split: 'eval', yaml: 'xstorycloze/default_<lang>.yaml (validation_split eval)' },
  pawsx: { repo: 'google-research-datasets/paws-x', split: 'test', yaml: 'paws-x/pawsx_template_yaml (test_split test)' },
  xwinograd: { repo: 'Muennighoff/xwinograd', split: 'test', yaml: 'xwinograd/xwinograd_common_yaml (test_split test)' },
  belebele: { repo: 'facebook/belebele', split: 'test', yaml: 'belebele/_default_template_yaml (test_split test)' },
};

/** The dataset of a task format in a language as lm-eval names it (`it`, `jp`, `deu_Latn`). */
export function lmEvalDataset(format: string, lmEvalLanguage: string): LmEvalDataset {
  const d = LM_EVAL_DATASETS[format];
  if (!d) throw new PolyPruneError('BAD_ARGUMENT', `The task format '${format}' has no Hub dataset; Hub tasks: ${Object.keys(LM_EVAL_DATASETS).join(', ')}. Give the data with --data <file>.`);
  return { repo: d.repo, config: lmEvalLanguage, split: d.split };
}

export interface TaskRows {
  /** The rows as JSON lines (the dataset's fields). */
  text: string;
  rows: number;
  provenance: { dataset: string; config: string; split: string; revision: string; sha: string; files: string[]; bytesRead: number; sha256: string };
  cached: boolean;
}

type RowsOptions = Omit<CorpusTextOptions, 'bytes' | 'offset'>;

const jsonValue = (v: unknown): unknown => (typeof v === 'bigint' ? Number(v) : v instanceof Date ? v.toISOString() : v);

/** Every row of a config and split, as JSON lines, in the dataset's order. Cached by commit sha. */
export async function fetchTaskRows(ds: LmEvalDataset, optsIn: RowsOptions): Promise<TaskRows> {
  const opts = { ...optsIn, onCacheFull: once(optsIn.onCacheFull) };
  const ref: DatasetRef = await resolveRevision(ds.repo, 'refs/convert/parquet', opts);
  const key = `rows:${ds.repo}@${ref.sha}|${ds.config}|${ds.split}`;
  const hit = await getJson<Omit<TaskRows, 'cached'>>(opts.cache, key);
  if (hit && typeof hit.text === 'string' && (await sha256HexOf(hit.text)) === hit.provenance?.sha256) return { ...hit, cached: true };
  let list;
  try {
    list = await listFolderCached(ref, `${ds.config}/${ds.split}`, opts);
  } catch (e) {
    if ((e as PolyPruneError)?.code !== 'FILE_NOT_FOUND' || opts.offline) throw e;
    const configs = (await listFolderCached(ref, '', opts)).filter((x) => x.type === 'directory').map((x) => x.path);
    if (!configs.includes(ds.config)) throw new PolyPruneError('BAD_ARGUMENT', `The dataset ${ds.repo} has no config '${ds.config}'. Configs: ${configs.join(', ')}.`);
    const splits = (await listFolderCached(ref, ds.config, opts)).filter((x) => x.type === 'directory').map((x) => x.path.split('/').pop());
    throw new PolyPruneError('BAD_ARGUMENT', `The dataset ${ds.repo} (config ${ds.config}) has no split '${ds.split}'. Splits: ${splits.join(', ')}.`);
  }
  const files = list.filter((e) => e.type === 'file' && e.path.endsWith('.parquet')).sort((a, b) => (a.path < b.path ? -1 : 1));
  if (files.length === 0) throw new PolyPruneError('FILE_NOT_FOUND', `The dataset ${ds.repo} has no parquet files for ${ds.config}/${ds.split}.`);
  const { fetchFn, headers, endpoint } = hubFetch(opts);
  const lines: string[] = [];
  let bytesRead = 0;
  for (const f of files) {
    const name = `${ds.repo}/${f.path}`;
    const buf = rangeBuffer(datasetFileUrl(ref, f.path, endpoint), name, f.size, {
      fetchFn,
      headers,
      signal: opts.signal,
      onBytes: (n) => {
        bytesRead += n;
        opts.onBytes?.(n);
      },
      refused: (res) => datasetHttpError(ds.repo, ref.revision, res, endpoint, Boolean(opts.token), `file ${f.path}`),
    });
    const meta = await parquetMeta(buf, name);
    const columns = meta.schema.slice(1).filter((el) => el.name && el.num_children === undefined).map((el) => el.name);
    checkColumns(meta, name, columns);
    for (let g = 0; g < meta.row_groups.length; g++) {
      for (const row of await parquetRowGroup(buf, meta, g, columns, name)) {
        lines.push(JSON.stringify(Object.fromEntries(Object.entries(row).map(([k, v]) => [k, jsonValue(v)]))));
      }
    }
  }
  const text = lines.join('\n') + '\n';
  const out = { text, rows: lines.length, provenance: { dataset: ds.repo, config: ds.config, split: ds.split, revision: ref.revision, sha: ref.sha, files: files.map((f) => f.path), bytesRead, sha256: await sha256HexOf(text) } };
  await putJson(opts.cache, key, out, (e) => opts.onCacheFull?.(`The dataset cache is full (${(e as Error)?.message ?? String(e)}); this download is used but not kept. Clear the cache or give it more room.`));
  return { ...out, cached: false };
}

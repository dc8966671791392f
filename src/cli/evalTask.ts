import type { Command } from 'commander';
import { PolyPruneError } from '../common/errors';
import { TASK_NAMES } from '../engine';
import { resolveTaskName } from '../eval/lmEvalNames';
import { cliMinRate, cliStallTimeoutMs, createEngine, modelSpec, parseIntArg } from './main';
import { cliSignal } from './cancel';
import { MAX_TEXT_FILE_BYTES } from '../io/limits';
import { downloadBytes } from '../io/source';
import { modelRefOf, recordHeader, taskResultRecord } from '../experiment/records';
import { sha256Hex } from '../calib/text';
import { progressPrinter } from './progress';
import { decodeUtf8Strict, readTextArg } from './text';
import { addHubOptions, hubTaskRows, type HubCliOptions } from './hubData';

async function readData(data: string): Promise<string> {
  if (/^https?:\/\//i.test(data)) {
    return decodeUtf8Strict(await downloadBytes(data, undefined, { stallTimeoutMs: cliStallTimeoutMs(), minRateBytesPerS: cliMinRate(), maxBytes: MAX_TEXT_FILE_BYTES, signal: cliSignal() }), data, 'Task file');
  }
  return decodeUtf8Strict(await readTextArg(data, 'Task file'), data, 'Task file');
}

export function registerEval(program: Command): void {
  const cmd = program
    .command('eval')
    .description('Score a multiple-choice task the way lm-evaluation-harness does (acc, acc_norm, acc_bytes with standard errors).')
    .requiredOption('-m, --model <dir|url>', 'model folder or URL')
    .requiredOption('--task <name>', `task format (${TASK_NAMES.join(', ')}) or an lm-eval task name (xcopa_it, xnli_de, belebele_deu_Latn, pawsx_de, xstorycloze_es, xwinograd_en)`)
    .option('--data <file|url>', 'task file in its published format (default for lm-eval task names: the dataset and split lm-eval scores, from the Hugging Face Hub)')
    .option('--language <code>', 'language of the data (xcopa, xnli and pawsx prompts depend on it)')
    .option('--limit <n>', 'score only the first N items', parseIntArg('--limit'))
    .option('--json', 'print JSON');
  addHubOptions(cmd).action(async (o: { model: string; task: string; data?: string; language?: string; limit?: number; json?: boolean } & HubCliOptions) => {
      const named = resolveTaskName(o.task);
      if (named.language && o.language && o.language !== named.language) {
        throw new PolyPruneError('BAD_ARGUMENT', `--task ${o.task} is in '${named.language}' but --language says '${o.language}'; give one of them.`);
      }
      const language = o.language ?? named.language;
      let text: string;
      let dataName: string;
      if (o.data) {
        text = await readData(o.data);
        dataName = o.data;
      } else {
        if (!named.lmEvalLanguage) throw new PolyPruneError('BAD_ARGUMENT', `--task ${o.task} without --data: give an lm-eval task name with its language (e.g. ${o.task}_${o.language ?? 'it'}), whose data comes from the Hub, or the file with --data.`);
        const rows = await hubTaskRows(named.task, named.lmEvalLanguage, o);
        text = rows.text;
        dataName = `hub:${rows.provenance.dataset}:${rows.provenance.config}:${rows.provenance.split}@${rows.provenance.sha.slice(0, 12)}`;
      }
      const engine = createEngine();
      try {
        const m = await engine.loadModel(modelSpec(o.model), { onProgress: o.json ? undefined : progressPrinter() });
        const r = await engine.evalTask(m.id, { task: named.task, text, language, limit: o.limit }, { onProgress: o.json ? undefined : progressPrinter() });
        if (o.json) {
          const bytes = new TextEncoder().encode(text);
          const file = { name: o.data ? o.data.split(/[\\/]/).pop() || o.data : dataName, language: r.language, bytes: bytes.byteLength, sha256: await sha256Hex(bytes) };
          const result = taskResultRecord(recordHeader(modelRefOf(m), (await engine.gpuInfo()).description), file, o.limit, r);
          console.log(JSON.stringify({ model: m.source, data: dataName, ...r, result }, null, 2));
          return;
        }
        const pm = (v: number, se: number | null) => `${v.toFixed(4)}${se === null ? '' : ` ± ${se.toFixed(4)}`}`;
        console.log(`task       ${r.task} (${r.language}), ${r.n} items`);
        console.log(`acc        ${pm(r.acc, r.acc_stderr)}`);
        console.log(`acc_norm   ${pm(r.acc_norm, r.acc_norm_stderr)}`);
        console.log(`acc_bytes  ${pm(r.acc_bytes, r.acc_bytes_stderr)}`);
        if (r.truncated) console.log(`truncated  ${r.truncated} requests cut from the left to fit the context`);
        for (const w of r.warnings) console.error(`warning: ${w}`);
      } finally {
        await engine.dispose();
      }
    });
}

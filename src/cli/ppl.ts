import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { PolyPruneError } from '../common/errors';
import { createEngine, modelSpec, parseIntArg } from './main';
import { progressPrinter } from './progress';
import { decodeUtf8Strict, readTextArg, readTextHead } from './text';
import { readTokenWindows } from './windows';
import { modelRefOf, perplexityResultRecord, recordHeader } from '../experiment/records';
import { sha256Hex } from '../calib/text';
import path from 'node:path';

export function registerPpl(program: Command): void {
  program
    .command('ppl')
    .description('Token perplexity, mean NLL and bits per byte of a model on a text file (tokenized without BOS).')
    .requiredOption('-m, --model <dir|url>', 'model folder or URL')
    .option('-t, --text <file>', 'UTF-8 text file')
    .option('--windows <file.safetensors>', "explicit token windows instead of text: 'input_ids' I32 [n, seqlen], each scored on its own")
    .option('-s, --seqlen <n>', 'window length in tokens', parseIntArg('--seqlen', 2), 2048)
    .option('--stride <n>', 'sliding window stride (default: non-overlapping windows)', parseIntArg('--stride'))
    .option('--max-windows <n>', 'score at most this many windows', parseIntArg('--max-windows'))
    .option('--json', 'print JSON')
    .action(async (o: { model: string; text?: string; windows?: string; seqlen: number; stride?: number; maxWindows?: number; json?: boolean }, cmd: Command) => {
      const seqlenDefault = cmd.getOptionValueSource('seqlen') === 'default';
      if (!o.text === !o.windows) throw new PolyPruneError('BAD_ARGUMENT', 'Give exactly one of --text <file> or --windows <file.safetensors>.');
      let text: string | undefined;
      let source: Uint8Array | undefined;
      let windows: { ids: Int32Array; n: number; seqlen: number } | undefined;
      if (o.windows) {
        windows = await readTokenWindows(o.windows);
        o.seqlen = windows.seqlen;
      } else {
        // with --max-windows only the start of the file is read and tokenized (what the windows need)
        const need = o.maxWindows === undefined ? undefined : o.stride ? o.seqlen + (o.maxWindows - 1) * o.stride : o.maxWindows * o.seqlen;
        const bytes = need === undefined ? await readTextArg(o.text!) : await readTextHead(o.text!, need, 'Text file', (w) => process.stderr.write(`polyprune: warning: ${w}\n`));
        text = decodeUtf8Strict(bytes, o.text!);
        source = bytes;
      }
      const engine = createEngine();
      try {
        const m = await engine.loadModel(modelSpec(o.model), { onProgress: o.json ? undefined : progressPrinter() });
        if (o.seqlen > m.maxPositionEmbeddings) {
          const what = o.windows ? `The windows in ${o.windows} (${o.seqlen} tokens each) are` : `${seqlenDefault ? 'The default --seqlen' : '--seqlen'} ${o.seqlen} is`;
          throw new PolyPruneError('BAD_ARGUMENT', `${what} longer than the model's context (max_position_embeddings ${m.maxPositionEmbeddings}); ${o.windows ? 'use shorter windows' : `give --seqlen ${m.maxPositionEmbeddings} or less`}.`);
        }
        const r = await engine.perplexity(m.id, { text, textName: o.text ?? o.windows, windows, seqlen: o.seqlen, stride: o.stride, maxWindows: o.maxWindows }, { onProgress: o.json ? undefined : progressPrinter() });
        for (const w of r.warnings ?? []) process.stderr.write(`polyprune: warning: ${w}\n`);
        if (o.json) {
          // `result`: the versioned result record (src/experiment/records.ts) the page and history read
          const file = o.text ?? o.windows!;
          const bytes = source ?? (await readFile(file));
          const result = perplexityResultRecord(recordHeader(modelRefOf(m), (await engine.gpuInfo()).description), { name: path.basename(file), language: null, bytes: bytes.byteLength, sha256: await sha256Hex(bytes) }, { seqlen: r.seqlen, stride: r.stride, maxWindows: o.maxWindows }, r);
          console.log(JSON.stringify({ model: m.source, text: o.text ?? o.windows, ...r, result }, null, 2));
        }
        else {
          console.log(`perplexity     ${r.ppl.toFixed(4)}`);
          console.log(`mean NLL       ${r.meanNll.toFixed(6)} nats/token`);
          console.log(`bits per byte  ${r.bitsPerByte === null ? "n/a (tokenizer gives no byte lengths)" : r.bitsPerByte.toFixed(4)}`);
          console.log(`scored         ${r.tokens} tokens, ${r.bytes} bytes, ${r.windows} window${r.windows === 1 ? '' : 's'} of ${r.seqlen}${r.stride ? ` (stride ${r.stride})` : ''}`);
        }
      } finally {
        await engine.dispose();
      }
    });
}

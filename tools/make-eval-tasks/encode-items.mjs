#!/usr/bin/env node
/**
 * Token ids of minimal-pair task files (CLAMS format), built the way the engine builds them
 * (src/eval/loglikelihood.ts `encodePair` for an empty context, src/eval/tasks/clams.ts): every choice
 * is the prefix token (BOS) followed by the continuation ' ' + sentence encoded without special
 * tokens. Used by np_score.py. Prints JSON: {bos, tasks: [{file, items: [[ids of choice 0, ...]]}]}.
 *
 * Usage: node tools/make-eval-tasks/encode-items.mjs <model dir> <task file>...
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Tokenizer } from '@huggingface/tokenizers';

const [modelDir, ...files] = process.argv.slice(2);
if (!modelDir || files.length === 0) {
  console.error('Usage: encode-items.mjs <model dir> <task file>...');
  process.exit(2);
}
const json = JSON.parse(readFileSync(join(modelDir, 'tokenizer.json'), 'utf8'));
const config = JSON.parse(readFileSync(join(modelDir, 'tokenizer_config.json'), 'utf8'));
const tok = new Tokenizer({ ...json, added_tokens: json.added_tokens ?? [] }, config);
const name = (v) => (typeof v === 'string' ? v : v?.content);
const bos = tok.token_to_id(name(config.bos_token)) ?? tok.token_to_id(name(config.eos_token));
if (bos === undefined || bos === null) throw new Error('tokenizer has no BOS/EOS token');

const tasks = files.map((file) => {
  const items = [];
  let cur = null;
  for (const raw of readFileSync(file, 'utf8').split(/\r?\n/)) {
    if (raw.trim() === '') continue;
    const tab = raw.indexOf('\t');
    const flag = raw.slice(0, tab).trim();
    const sentence = raw.slice(tab + 1).trim();
    const ids = [bos, ...tok.encode(' ' + sentence, { add_special_tokens: false }).ids];
    if (flag === 'True') {
      cur = [ids];
      items.push(cur);
    } else if (flag === 'False' && cur) cur.push(ids);
    else throw new Error(`${file}: unexpected line '${raw.slice(0, 40)}'`);
  }
  return { file, items: items.filter((c) => c.length > 1) };
});
process.stdout.write(JSON.stringify({ bos, tasks }));

/** Registry of the multiple-choice task parsers, by task name. */
import { PolyPruneError } from '../../common/errors';
import { TASK_NAMES, type ParsedTask, type TaskName } from '../types';
import { parseBelebele } from './belebele';
import { parseClams } from './clams';
import { parseGenericJsonl, parseUdhrTask } from './generic';
import { parsePawsx, PAWSX_WORDS } from './pawsx';
import { parseXcopa, XCOPA_CONNECTORS } from './xcopa';
import { parseXnli, XNLI_WORDS } from './xnli';
import { parseXstorycloze } from './xstorycloze';
import { parseXwinograd } from './xwinograd';

export interface ParseOptions {
  /** ISO 639-1 code (or the dataset's own code for Belebele); required by xcopa, xnli, pawsx. */
  language?: string;
  /** For 'jsonl' only: the text put between context and choice (default ' '). */
  targetDelimiter?: string;
}

export interface TaskDef {
  name: TaskName;
  description: string;
  /** Languages with a prompt template, where the template depends on the language. */
  languages?: readonly string[];
  parse(text: string, opts?: ParseOptions): ParsedTask;
}

export const TASKS: Readonly<Record<TaskName, TaskDef>> = {
  xcopa: { name: 'xcopa', description: 'XCOPA causal commonsense (JSONL)', languages: Object.keys(XCOPA_CONNECTORS), parse: parseXcopa },
  xstorycloze: { name: 'xstorycloze', description: 'XStoryCloze story endings (JSONL or TSV)', parse: parseXstorycloze },
  xnli: { name: 'xnli', description: 'XNLI natural language inference (JSONL or XNLI 1.0 TSV)', languages: Object.keys(XNLI_WORDS), parse: parseXnli },
  pawsx: { name: 'pawsx', description: 'PAWS-X paraphrase identification (TSV or JSONL)', languages: Object.keys(PAWSX_WORDS), parse: parsePawsx },
  xwinograd: { name: 'xwinograd', description: 'XWinograd pronoun resolution, partial scoring (JSONL)', parse: parseXwinograd },
  belebele: { name: 'belebele', description: 'Belebele reading comprehension (JSONL)', parse: parseBelebele },
  clams: { name: 'clams', description: 'CLAMS syntactic minimal pairs (True/False TSV lines)', parse: parseClams },
  jsonl: { name: 'jsonl', description: 'Generic multiple choice {context, choices, label} (JSONL)', parse: parseGenericJsonl },
  udhr: { name: 'udhr', description: 'UDHR sentence continuation (public/data/udhr/<lang>.json)', parse: parseUdhrTask },
};

export function isTaskName(s: string): s is TaskName {
  return (TASK_NAMES as readonly string[]).includes(s);
}

/** Parse a task file; unknown task names fail listing the supported ones. */
export function parseTask(task: string, text: string, opts: ParseOptions = {}): ParsedTask {
  if (!isTaskName(task)) {
    throw new PolyPruneError('BAD_ARGUMENT', `Unknown task '${task}'. Supported: ${TASK_NAMES.join(', ')}.`);
  }
  return TASKS[task].parse(text, opts);
}

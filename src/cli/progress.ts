import type { ProgressEvent } from '../common/progress';

/** Progress on stderr: one line per event, rewritten in place on a terminal. */
export function progressPrinter(stream: NodeJS.WriteStream = process.stderr): (e: ProgressEvent) => void {
  const tty = stream.isTTY;
  let last = '';
  return (e) => {
    let line: string;
    switch (e.kind) {
      case 'layer':
        line = `layer ${e.layer + 1}/${e.layers} ${e.phase}  elapsed ${(e.elapsedMs / 1000).toFixed(1)}s  ETA ${(e.etaMs / 1000).toFixed(1)}s`;
        break;
      case 'download':
        line = `download ${e.file} ${e.total ? Math.round((100 * e.loaded) / e.total) : 0}%`;
        break;
      case 'done':
        line = e.message;
        break;
      case 'prune':
        line = `prune ${e.matrix} (${e.done}/${e.total})`;
        break;
      case 'step':
        line = `[${e.done}/${e.total}] ${e.message}${e.etaMs !== null ? `  ETA ${(e.etaMs / 1000).toFixed(1)}s` : ''}`;
        break;
      case 'layerDone':
        line = `layer ${e.layer + 1}/${e.layers} pruned${e.recon.some((x) => x !== null) ? `, reconstruction error ${e.recon.map((x) => (x === null ? '-' : x.toExponential(2))).join(' ')}` : ''}`;
        break;
      case 'token':
        line = `generate ${e.done}/${e.total} tokens`;
        break;
      case 'cell':
      case 'rowDone':
      case 'maskOverlap':
      case 'stepStart':
        return;
      default:
        if (e.kind === 'calibrate' && e.message.startsWith('warning: ')) {
          // a warning stays on its own line, as every other warning of the CLI
          stream.write(`${tty ? '\r\x1b[K' : ''}polyprune: ${e.message}\n`);
          return;
        }
        line = `${e.kind} ${e.message} (${e.done}/${e.total})`;
    }
    if (line === last) return;
    last = line;
    if (tty) stream.write(`\r\x1b[K${line}`);
    else stream.write(`${line}\n`);
    if (tty && e.kind === 'done') stream.write('\n');
  };
}

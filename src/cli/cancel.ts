/**
 * Ctrl-C and SIGTERM for every command, one rule: the first signal aborts whatever runs (model
 * loading and downloads included: every engine operation of the CLI follows {@link cliSignal}),
 * nothing is written, and the exit code says so (130 after SIGINT, 143 after SIGTERM, the shell's
 * 128 + signal number). A second signal exits at once, after removing the partial outputs
 * registered with {@link removeOnHardExit}.
 */
import { rmSync } from 'node:fs';
import { PolyPruneError } from '../common/errors';

const EXIT: Record<'SIGINT' | 'SIGTERM', number> = { SIGINT: 130, SIGTERM: 143 };

let ctrl = new AbortController();
let received: 'SIGINT' | 'SIGTERM' | null = null;
let message = 'cancelling; nothing will be written (Ctrl-C again to quit at once)';
const partials = new Set<string>();

function onSignal(sig: 'SIGINT' | 'SIGTERM'): void {
  if (received) {
    for (const p of partials) rmSync(p, { recursive: true, force: true });
    process.stderr.write('\npolyprune: stopped at once; nothing was written\n');
    process.exit(EXIT[received]);
  }
  received = sig;
  process.stderr.write(`\npolyprune: ${message}\n`);
  ctrl.abort(new PolyPruneError('CANCELLED', 'Cancelled; nothing was written.'));
}
const onInt = (): void => onSignal('SIGINT');
const onTerm = (): void => onSignal('SIGTERM');

/** Installs the handlers for one CLI run (runCli); returns the uninstaller. */
export function installCancel(): () => void {
  ctrl = new AbortController();
  received = null;
  partials.clear();
  message = 'cancelling; nothing will be written (Ctrl-C again to quit at once)';
  process.on('SIGINT', onInt);
  process.on('SIGTERM', onTerm);
  return () => {
    process.off('SIGINT', onInt);
    process.off('SIGTERM', onTerm);
  };
}

/** Aborted by the first Ctrl-C / SIGTERM. */
export function cliSignal(): AbortSignal {
  return ctrl.signal;
}

/** The line printed on the first signal (grid: what it does with the cells measured so far). */
export function setCancelMessage(m: string): void {
  message = m;
}

/** The exit code for a cancelled run (130 / 143), or null when no signal came. */
export function cancelExitCode(): number | null {
  return received ? EXIT[received] : null;
}

/** A path (partial output) removed when a second signal exits at once. */
export function removeOnHardExit(path: string): () => void {
  partials.add(path);
  return () => partials.delete(path);
}

/**
 * The record helpers every feature uses to keep its finished runs in History: the header of a record
 * (`runHeader`), a text input as a record names it (`textRef`), and `keepRecord`, which never fails
 * the run it keeps. Imports no feature action (features import this, never the other way round).
 */
import type { ModelSummary } from '../../../engine';
import { sha256Hex } from '../../../calib/text';
import { recordHeader, modelRefOf, type ResultRecord, type SourceRef } from '../../../experiment/records';
import { errorCode, errorText, getEngine, store } from '../../store/actions/core';
import { historyDb, saveRecord } from './storage';

let adapterDescription: string | null = null;

/** The header of a record of a run on `model` (adapter asked once per page). */
export async function runHeader(model: ModelSummary): Promise<ReturnType<typeof recordHeader>> {
  adapterDescription ??= (await getEngine().gpuInfo()).description;
  return recordHeader(modelRefOf(model), adapterDescription);
}

/** A text input as a record names it: name, language, UTF-8 size and SHA-256. */
export async function textRef(name: string, text: string | Uint8Array, language: string | null, weight?: number): Promise<SourceRef> {
  const bytes = typeof text === 'string' ? new TextEncoder().encode(text) : text;
  return { name, language, bytes: bytes.byteLength, sha256: await sha256Hex(bytes), ...(weight !== undefined ? { weight } : {}) };
}

/**
 * Keep a finished single run (perplexity, task, prune) in History. Never fails the run: a record that
 * cannot be built or stored is reported in the History panel. Returns the entry id.
 */
export async function keepRecord(build: () => Promise<ResultRecord>): Promise<string | undefined> {
  if (!historyDb()) return undefined; // History unavailable: the panel says so once (historyStatus).
  let rec: ResultRecord;
  try {
    rec = await build();
  } catch (e) {
    store().pushMessage({ panel: 'history', level: 'error', code: errorCode(e), text: `This run was not kept in History: ${errorText(e)}` });
    return undefined;
  }
  return saveRecord(rec);
}

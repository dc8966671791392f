/**
 * Resume after a reload, a closed tab or a lost GPU device: the experiment's record is rebuilt, event
 * by event, from what `runStudy` reports as it goes (`cell`, `layerDone`, `rowDone`, `maskOverlap`),
 * starting from the planned empty record (`planStudy`). The page stores it (history.ts, `partial`)
 * after every finished cell and hands it back to `runStudy` as `resume`, which measures only the cells
 * still missing. Values are rounded exactly as runStudy rounds them, so a resumed run ends with the same
 * record as an uninterrupted one.
 */
import type { ProgressEvent } from '../common/progress';
import { sig, type ExperimentRecord } from './records';

export class StudyCheckpoint {
  readonly record: ExperimentRecord;
  /** recon being filled per (row, seed) from layerDone events: recon[layer][matrix]. */
  private readonly recon = new Map<string, (number | null)[][]>();
  /** OWL: the sparsity each layer reached, per (row, seed), from layerDone events (layerSparsity[layer]). */
  private readonly layers = new Map<string, (number | null)[]>();

  /** `planned`: the empty record from planStudy, or a checkpoint stored earlier (resume). */
  constructor(planned: ExperimentRecord) {
    this.record = structuredClone(planned);
  }

  /** Cells measured so far (each seed of each measured value counts once). */
  measured(): { done: number; total: number } {
    let done = 0;
    let total = 0;
    for (const row of this.record.cells)
      for (const [k, c] of row.entries()) {
        const hasText = this.record.columns[k].text !== null;
        for (const v of hasText ? c.ppl : []) {
          total++;
          if (v !== null) done++;
        }
        for (const a of c.acc)
          for (const v of a) {
            total++;
            if (v !== null) done++;
          }
      }
    return { done, total };
  }

  /** Apply one progress event; true when the record changed (worth storing). */
  apply(e: ProgressEvent): boolean {
    const rec = this.record;
    switch (e.kind) {
      case 'cell': {
        const c = rec.cells[e.row]?.[e.col];
        if (!c) return false;
        if (e.values.ppl !== null) c.ppl[e.seed] = e.values.ppl;
        if (e.values.bpb !== null) c.bpb[e.seed] = e.values.bpb;
        e.values.acc.forEach((v, j) => {
          if (v !== null && c.acc[j]) c.acc[j][e.seed] = v;
        });
        e.values.se.forEach((v, j) => {
          if (v !== null && c.se[j]) c.se[j][e.seed] = v;
        });
        return true;
      }
      case 'layerDone': {
        if (e.row === undefined || e.seed === undefined) return false;
        const key = `${e.row}/${e.seed}`;
        let r = this.recon.get(key);
        if (!r || e.layer === 0) {
          r = Array.from({ length: e.layers }, () => rec.matrices.map(() => null as number | null));
          this.recon.set(key, r);
        }
        e.matrices.forEach((m, i) => {
          const j = rec.matrices.indexOf(m);
          if (j >= 0 && r[e.layer]) r[e.layer][j] = sig(e.recon[i] ?? null, 4);
        });
        if (e.layerSparsity !== undefined && rec.rows[e.row]?.layerSparsity) {
          let ls = this.layers.get(key);
          if (!ls || e.layer === 0) {
            ls = Array.from({ length: e.layers }, () => null as number | null);
            this.layers.set(key, ls);
          }
          ls[e.layer] = sig(e.layerSparsity, 6);
        }
        return false;
      }
      case 'rowDone': {
        const row = rec.rows[e.row];
        if (!row) return false;
        row.sparsity[e.seed] = sig(e.sparsity, 6);
        const r = this.recon.get(`${e.row}/${e.seed}`);
        row.recon[e.seed] = r && r.some((l) => l.some((v) => v !== null)) ? r : null;
        // instant grid rows: the time of the mask update, and for confirm rows the per-layer IoU
        if (row.mix?.updateMs && e.updateMs !== undefined) row.mix.updateMs[e.seed] = sig(e.updateMs, 4);
        if (row.mix?.layerIou && e.layerIou) row.mix.layerIou[e.seed] = e.layerIou.map((v) => sig(v, 4));
        if (row.mix?.layerCodes && e.layerCodes) row.mix.layerCodes[e.seed] = e.layerCodes.map((v) => sig(v, 4));
        const ls = this.layers.get(`${e.row}/${e.seed}`);
        if (row.layerSparsity && ls) row.layerSparsity[e.seed] = ls;
        this.recon.delete(`${e.row}/${e.seed}`);
        this.layers.delete(`${e.row}/${e.seed}`);
        return true;
      }
      case 'maskOverlap': {
        if (rec.iou.some((m) => m.a === e.a && m.b === e.b && m.s === e.seed)) return false;
        rec.iou.push({ a: e.a, b: e.b, s: e.seed, v: e.iou.map((l) => [...l]) });
        return true;
      }
      default:
        return false;
    }
  }
}

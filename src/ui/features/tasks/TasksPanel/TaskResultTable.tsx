/** The parts of a task results table that the Tasks panel and History's record view share. */

export const fmtAcc = (x: number, se: number | null): string => `${x.toFixed(3)}${se === null ? '' : ` ± ${se.toFixed(3)}`}`;

/** The scores of one task result, as the table's columns after task, language and model. */
export interface TaskScores {
  n: number;
  acc: number;
  acc_stderr: number | null;
  acc_norm: number;
  acc_norm_stderr: number | null;
  acc_bytes: number;
  acc_bytes_stderr: number | null;
  truncated: number;
  warnings: readonly string[];
}

export function TaskResultHead() {
  return (
    <thead>
      <tr>
        <th scope="col" className="text">
          task
        </th>
        <th scope="col" className="text">
          language
        </th>
        <th scope="col" className="text">
          model
        </th>
        <th scope="col">items</th>
        <th scope="col">acc</th>
        <th scope="col">acc_norm</th>
        <th scope="col">acc_bytes</th>
        <th scope="col">
          <abbr title="requests cut from the left to fit the model's context">truncated</abbr>
        </th>
        <th scope="col">warnings</th>
      </tr>
    </thead>
  );
}

/** items, acc, acc_norm, acc_bytes (each ± stderr), truncated and the warning count. */
export function TaskScoreCells({ r }: { r: TaskScores }) {
  return (
    <>
      <td>{r.n}</td>
      <td className="task-acc" data-value={r.acc}>
        {fmtAcc(r.acc, r.acc_stderr)}
      </td>
      <td>{fmtAcc(r.acc_norm, r.acc_norm_stderr)}</td>
      <td>{fmtAcc(r.acc_bytes, r.acc_bytes_stderr)}</td>
      <td>{r.truncated}</td>
      <td className={r.warnings.length ? 'task-warn-count' : undefined}>{r.warnings.length}</td>
    </>
  );
}

import { lmEvalTasksFor } from '../../../../eval/lmEvalNames';
import { useAppStore } from '../../../store';

/**
 * lm-evaluation-harness tasks that exist for the chosen evaluation languages, with their item counts;
 * a ticked task's data comes from the Hugging Face Hub (the dataset and split lm-eval scores) when the
 * experiment runs, and is kept in the browser cache with the weights.
 */
export function HubTaskChooser() {
  const evalLanguages = useAppStore((s) => s.expEvalLanguages);
  const chosen = useAppStore((s) => s.expHubTasks);
  const busy = useAppStore((s) => s.running !== null);
  const setExp = useAppStore((s) => s.setExp);
  const tasks = lmEvalTasksFor(evalLanguages);
  const toggle = (name: string, on: boolean) => setExp({ expHubTasks: on ? [...chosen, name] : chosen.filter((n) => n !== name) });
  return (
    <div className="exp-hub-tasks" role="group" aria-label="lm-eval tasks from the Hugging Face Hub">
      <span className="hint">lm-eval tasks (data from the Hugging Face Hub):</span>
      {tasks.length === 0 ? (
        <span className="hint"> none for {evalLanguages.join(', ') || 'the chosen languages'}.</span>
      ) : (
        <ul className="exp-hub-task-list">
          {tasks.map((t) => (
            <li key={t.name}>
              <label>
                <input type="checkbox" checked={chosen.includes(t.name)} disabled={busy} onChange={(e) => toggle(t.name, e.target.checked)} /> {t.name}{' '}
                <span className="hint">({t.items.toLocaleString('en-US')} items)</span>
              </label>
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

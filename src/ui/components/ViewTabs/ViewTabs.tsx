import type { MouseEvent } from 'react';
import { useAppStore, VIEW_OF_PANEL, VIEWS, type ViewId } from '../../store';
import { openView, viewHref } from '../../store/actions/view';
import './ViewTabs.css';

/**
 * The views as links (`?view=...`): a click shows the view without reloading and adds a history
 * entry; a middle click or "open in new tab" opens the same view. A view whose operation is running
 * is marked.
 */
export function ViewTabs() {
  const view = useAppStore((s) => s.view);
  const runningIn = useAppStore((s) => (s.running && s.running.panel !== 'model' ? VIEW_OF_PANEL[s.running.panel] : null));
  const onClick = (e: MouseEvent<HTMLAnchorElement>, id: ViewId): void => {
    if (e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
    e.preventDefault();
    openView(id);
  };
  return (
    <nav className="view-tabs" aria-label="Views">
      <ul>
        {VIEWS.map((v) => (
          <li key={v.id}>
            <a href={viewHref(v.id, location)} aria-current={view === v.id ? 'page' : undefined} onClick={(e) => onClick(e, v.id)}>
              {v.label}
              {runningIn === v.id && (
                <span className="view-tab-running" title="running">
                  {' '}
                  ●<span className="visually-hidden"> (running)</span>
                </span>
              )}
            </a>
          </li>
        ))}
      </ul>
    </nav>
  );
}

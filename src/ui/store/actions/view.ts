/**
 * The view in the URL: `?view=<id>` (none for the study). Other query parameters (`?autoload=0`,
 * `?test=1`, ...) and the hash (share links, `#r=...`) are kept; back and forward move between views.
 */
import { isViewId, VIEW_OF_PANEL, type ViewId } from '../viewSlice';
import { store } from './core';
import { useAppStore } from '../index';

/** The view a URL's query string names (the study when none or an unknown one). */
export function viewFromSearch(search: string): ViewId {
  const v = new URLSearchParams(search).get('view');
  return isViewId(v) ? v : 'study';
}

/** The address of `view`, keeping the other query parameters and the hash of `loc`. */
export function viewHref(view: ViewId, loc: { pathname: string; search: string; hash: string }): string {
  const q = new URLSearchParams(loc.search);
  if (view === 'study') q.delete('view');
  else q.set('view', view);
  const search = q.toString();
  return `${loc.pathname}${search ? `?${search}` : ''}${loc.hash}`;
}

/** Show `view` and put it in the address (a new history entry, so Back returns to the last view). */
export function openView(view: ViewId): void {
  if (store().view === view) return;
  store().setView(view);
  history.pushState(null, '', viewHref(view, location));
  window.scrollTo({ top: 0 });
}

/**
 * Read the view from the address, follow back/forward, and bring an operation that starts elsewhere
 * into sight (a re-run started in History runs in its own panel). Loading a model is the exception:
 * the header shows its progress in every view.
 */
export function initViews(): void {
  store().setView(viewFromSearch(location.search));
  window.addEventListener('popstate', () => store().setView(viewFromSearch(location.search)));
  let lastOp: string | null = null;
  useAppStore.subscribe((s) => {
    const op = s.running;
    if (!op || op.opId === lastOp) {
      if (!op) lastOp = null;
      return;
    }
    lastOp = op.opId;
    const view = VIEW_OF_PANEL[op.panel];
    if (op.panel !== 'model' && view !== s.view) openView(view);
  });
}

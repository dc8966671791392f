/** App entry: starts the engine worker, connects the store actions to it, renders the app. */
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { createWorkerEngine } from '../engine';
import { connectEngine, initApp, reportError } from './store/actions';
import { installTestHook } from './testHook';
import { engineSettings } from './paths';
import { initHistory } from './features/history/storage';
import { initViews } from './store/actions/view';
import { App } from './components/App/App';
import { ErrorBoundary } from './components/ErrorBoundary/ErrorBoundary';
import './styles/base.css';

const page = engineSettings();
const engine = createWorkerEngine({ onWorkerError: (e) => reportError('app', e), settings: page.settings });
if (page.problem) reportError('app', page.problem);
connectEngine(engine);
installTestHook(engine);

window.addEventListener('unhandledrejection', (ev) => reportError('app', ev.reason));
window.addEventListener('error', (ev) => reportError('app', ev.error ?? ev.message));

initViews();
const root = document.getElementById('root');
if (!root) throw new Error('index.html has no #root element');
createRoot(root).render(
  <StrictMode>
    <ErrorBoundary>
      <App />
    </ErrorBoundary>
  </StrictMode>,
);
void initApp();
void initHistory();

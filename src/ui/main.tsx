/** App entry: starts the engine worker, connects the store actions to it, renders the app. */
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { createWorkerEngine } from '../engine';
import { connectEngine, initApp, reportError } from './store/actions';
import { installTestHook } from './testHook';
import { initHistory } from './store/actions/history';
import { App } from './components/App/App';
import { ErrorBoundary } from './components/ErrorBoundary/ErrorBoundary';
import './styles/base.css';

const engine = createWorkerEngine({ onWorkerError: (e) => reportError('app', e) });
connectEngine(engine);
installTestHook(engine);

window.addEventListener('unhandledrejection', (ev) => reportError('app', ev.reason));
window.addEventListener('error', (ev) => reportError('app', ev.error ?? ev.message));

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

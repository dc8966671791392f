import { Component, type ErrorInfo, type ReactNode } from 'react';

interface State {
  error: Error | null;
}

/** Last line of defence: a render error shows a message and a way out instead of a blank page. */
export class ErrorBoundary extends Component<{ children: ReactNode }, State> {
  override state: State = { error: null };

  static getDerivedStateFromError(error: unknown): State {
    return { error: error instanceof Error ? error : new Error(String(error)) };
  }

  override componentDidCatch(error: unknown, info: ErrorInfo): void {
    console.error('PolyPrune UI error', error, info.componentStack);
  }

  override render(): ReactNode {
    const { error } = this.state;
    if (!error) return this.props.children;
    return (
      <main className="app">
        <section className="panel" role="alert">
          <h2>Something went wrong in the page</h2>
          <p>{error.message}</p>
          <p>
            <button type="button" onClick={() => this.setState({ error: null })}>
              Try again
            </button>{' '}
            <button type="button" onClick={() => location.reload()}>
              Reload the page
            </button>
          </p>
        </section>
      </main>
    );
  }
}

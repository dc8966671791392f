import { useShallow } from 'zustand/react/shallow';
import { useAppStore, type Panel } from '../../store';
import './Messages.css';

/** Errors and notices of one panel, newest last; errors carry the engine's code. */
export function Messages({ panel }: { panel: Panel }) {
  const messages = useAppStore(useShallow((s) => s.messages.filter((m) => m.panel === panel)));
  const dismiss = useAppStore((s) => s.dismissMessage);
  if (!messages.length) return null;
  return (
    <ul className="messages">
      {messages.map((m) => (
        <li key={m.id} className={`message message-${m.level}`} role={m.level === 'error' ? 'alert' : 'status'} data-code={m.code}>
          {m.code && <code className="message-code">{m.code}</code>}
          <span className="message-text">{m.text}</span>
          <button type="button" className="message-dismiss" aria-label="Dismiss message" onClick={() => dismiss(m.id)}>
            ×
          </button>
        </li>
      ))}
    </ul>
  );
}

import './LanguagePicker.css';

export interface LanguageOption {
  code: string;
  /** Shown as a tooltip, e.g. the language's name. */
  title?: string;
}

/** A fieldset of language checkboxes with All / None (and optional preset) buttons. */
export function LanguagePicker({
  legend,
  options,
  selected,
  onChange,
  disabled,
  presets = [],
}: {
  legend: string;
  options: LanguageOption[];
  selected: string[];
  onChange: (langs: string[]) => void;
  disabled?: boolean;
  presets?: { label: string; languages: string[] }[];
}) {
  const codes = options.map((o) => o.code);
  const toggle = (code: string, on: boolean): void => {
    const next = new Set(selected);
    if (on) next.add(code);
    else next.delete(code);
    onChange(codes.filter((c) => next.has(c)));
  };
  const count = codes.filter((c) => selected.includes(c)).length;
  return (
    <fieldset className="lang-picker" disabled={disabled}>
      <legend>
        {legend} <span className="lang-picker-count">({count} of {codes.length})</span>
      </legend>
      <div className="lang-picker-quick">
        <button type="button" className="small" aria-label={`All: ${legend}`} onClick={() => onChange(codes)}>
          All
        </button>
        <button type="button" className="small" aria-label={`None: ${legend}`} onClick={() => onChange([])}>
          None
        </button>
        {presets.map((p) => (
          <button key={p.label} type="button" className="small" aria-label={`${p.label}: ${legend}`} onClick={() => onChange(codes.filter((c) => p.languages.includes(c)))}>
            {p.label}
          </button>
        ))}
      </div>
      <div className="lang-picker-list">
        {options.map((o) => (
          <label key={o.code} title={o.title}>
            <input type="checkbox" checked={selected.includes(o.code)} onChange={(e) => toggle(o.code, e.target.checked)} />
            {o.code}
          </label>
        ))}
      </div>
    </fieldset>
  );
}

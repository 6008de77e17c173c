import { useEffect, useState } from "react";
import type { ApiError } from "../api";

/** The runs filter: Heron's search language, applied on Enter. A syntax error from the
 * server is shown under the box with the offending character marked. */
export function FilterBox({ value, onApply, error }: { value: string; onApply: (filter: string) => void; error?: ApiError }) {
  const [typed, setTyped] = useState(value);
  useEffect(() => setTyped(value), [value]);
  const syntax = error?.code === "SEARCH_SYNTAX_ERROR" && error.position !== undefined ? error : undefined;
  return (
    <form
      className="filter-box"
      onSubmit={(event) => {
        event.preventDefault();
        onApply(typed.trim());
      }}
    >
      <input
        type="search"
        aria-label="Filter runs"
        className={syntax ? "invalid" : undefined}
        placeholder="metrics.auc > 0.9 AND params.optimizer = 'adam'"
        value={typed}
        spellCheck={false}
        onChange={(event) => setTyped(event.target.value)}
      />
      <button type="submit">Filter</button>
      {syntax && <SyntaxErrorMessage error={syntax} />}
    </form>
  );
}

function SyntaxErrorMessage({ error }: { error: ApiError }) {
  const text = error.text ?? "";
  const at = Math.min(error.position ?? 0, text.length);
  return (
    <div className="syntax-error" role="alert">
      <div>
        Syntax error at position {at}: {error.reason ?? error.message}
      </div>
      <pre className="syntax-text">
        {text.slice(0, at)}
        <mark className="syntax-mark">{text.slice(at, at + 1) || " "}</mark>
        {text.slice(at + 1)}
      </pre>
    </div>
  );
}

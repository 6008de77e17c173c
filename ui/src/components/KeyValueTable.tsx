export function KeyValueTable({ label, values }: { label: string; values: Record<string, string> }) {
  const keys = Object.keys(values).sort();
  if (keys.length === 0) return <p className="muted">No {label.toLowerCase()}.</p>;
  return (
    <table className="grid key-values" aria-label={label}>
      <tbody>
        {keys.map((key) => (
          <tr key={key}>
            <th>{key}</th>
            <td>{values[key]}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

import { errorMessage } from "../lib/errors.ts";

/** The placeholder for a query that has no data yet: loading, or why it failed. */
export function QueryStatus({ error, what }: { error: unknown; what: string }) {
  if (error) {
    return (
      <div className="notice notice-error" role="alert">
        Could not load {what}: {errorMessage(error)}
      </div>
    );
  }
  return <div className="panel panel-empty muted">Loading {what}…</div>;
}

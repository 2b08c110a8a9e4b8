import { errorMessage } from "../lib/errors.ts";

/** A failed request under the form that made it, as a message a user can act on; nothing when it did not fail. */
export function FormError({ error, testId }: { error: unknown; testId?: string }) {
  if (!error) return null;
  return (
    <p className="form-error" role="alert" data-testid={testId}>
      {errorMessage(error)}
    </p>
  );
}

"use client";

import type { ReactNode } from "react";
import { CopyButton } from "./copy-button.tsx";

/** A secret just made (a join token, a first password): its only appearance, with a copy button. */
export function SecretPanel(props: {
  title: ReactNode;
  /** Why and for how long it is shown; a warning. */
  notice: ReactNode;
  secret: string;
  testIds: { panel: string; secret: string; copy: string };
  onDone: () => void;
  /** More below the secret (how to use it). */
  children?: ReactNode;
}) {
  return (
    <section className="panel panel-highlight" data-testid={props.testIds.panel} aria-live="polite">
      <div className="panel-head">
        <h2>{props.title}</h2>
        <button type="button" className="btn btn-ghost btn-sm" onClick={props.onDone}>
          Done
        </button>
      </div>
      <p className="notice notice-warn">{props.notice}</p>
      <div className="secret-row">
        <code className="secret" data-testid={props.testIds.secret}>
          {props.secret}
        </code>
        <CopyButton text={props.secret} testId={props.testIds.copy} />
      </div>
      {props.children}
    </section>
  );
}

"use client";

import { type ReactNode, useEffect, useRef } from "react";

/**
 * A modal question (the browser's own <dialog>: focus trapped, Escape
 * cancels). The caller keeps `open` and runs the action in `onConfirm`.
 */
export function ConfirmDialog(props: {
  open: boolean;
  title: string;
  children: ReactNode;
  confirmLabel: string;
  busyLabel?: string;
  danger?: boolean;
  busy?: boolean;
  confirmDisabled?: boolean;
  error?: string | null;
  testId?: string;
  onConfirm: () => void;
  onCancel: () => void;
}) {
  const ref = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const dialog = ref.current;
    if (!dialog) return;
    if (props.open && !dialog.open) dialog.showModal();
    if (!props.open && dialog.open) dialog.close();
  }, [props.open]);
  return (
    <dialog
      ref={ref}
      className="dialog"
      data-testid={props.testId}
      onCancel={(e) => {
        e.preventDefault();
        if (!props.busy) props.onCancel();
      }}
    >
      {props.open && (
        <form
          method="dialog"
          onSubmit={(e) => {
            e.preventDefault();
            if (!props.confirmDisabled && !props.busy) props.onConfirm();
          }}
        >
          <h2>{props.title}</h2>
          <div className="dialog-body">{props.children}</div>
          {props.error && (
            <p className="form-error" role="alert">
              {props.error}
            </p>
          )}
          <div className="dialog-actions">
            <button type="button" className="btn btn-ghost" onClick={props.onCancel} disabled={props.busy}>
              Cancel
            </button>
            <button
              type="submit"
              className={props.danger ? "btn btn-danger" : "btn btn-primary"}
              disabled={props.confirmDisabled || props.busy}
              data-testid="confirm"
            >
              {props.busy ? (props.busyLabel ?? `${props.confirmLabel}…`) : props.confirmLabel}
            </button>
          </div>
        </form>
      )}
    </dialog>
  );
}

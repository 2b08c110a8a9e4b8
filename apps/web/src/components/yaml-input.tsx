"use client";

import { type RefObject, useMemo, useRef } from "react";
import { offsetOf } from "../lib/spec-issues.ts";

/** Must match `.yaml-input` line-height in stacks.css: the gutter and scrolling rely on it. */
const LINE_HEIGHT = 20;

/** Put the caret at a 1-based line and column and scroll it into view, a third from the top. */
export function moveCaret(textarea: HTMLTextAreaElement, line: number, column: number): void {
  const offset = offsetOf(textarea.value, line, column);
  textarea.focus();
  textarea.setSelectionRange(offset, offset);
  textarea.scrollTop = Math.max(0, (line - 1) * LINE_HEIGHT - textarea.clientHeight / 3);
}

/**
 * A plain textarea with line numbers: lines with an issue are marked in the
 * gutter. Tab indents by two spaces (YAML has no tabs); Ctrl/⌘+Enter runs
 * `onSubmit`.
 */
export function YamlInput(props: {
  value: string;
  onChange: (value: string) => void;
  onSubmit?: () => void;
  issueLines?: Set<number>;
  textareaRef: RefObject<HTMLTextAreaElement | null>;
  readOnly?: boolean;
}) {
  const gutter = useRef<HTMLDivElement>(null);
  const count = useMemo(() => props.value.split("\n").length, [props.value]);
  const lineNumbers = useMemo(() => Array.from({ length: count }, (_, i) => i + 1), [count]);
  return (
    <div className="yaml-editor">
      <div className="yaml-gutter" ref={gutter} aria-hidden="true">
        {lineNumbers.map((n) => (
          <div key={n} className={props.issueLines?.has(n) ? "gutter-line gutter-issue" : "gutter-line"}>
            {n}
          </div>
        ))}
      </div>
      <textarea
        ref={props.textareaRef}
        className="yaml-input"
        name="yaml"
        aria-label="Stack file (YAML)"
        data-testid="yaml-input"
        value={props.value}
        readOnly={props.readOnly}
        spellCheck={false}
        autoCapitalize="off"
        autoComplete="off"
        wrap="off"
        onChange={(e) => props.onChange(e.target.value)}
        onScroll={(e) => {
          if (gutter.current) gutter.current.scrollTop = e.currentTarget.scrollTop;
        }}
        onKeyDown={(e) => {
          if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) {
            e.preventDefault();
            props.onSubmit?.();
          } else if (e.key === "Tab" && !e.shiftKey && !e.altKey && !e.ctrlKey && !e.metaKey) {
            e.preventDefault();
            // insertText keeps the browser's undo history; the input event updates the state.
            document.execCommand("insertText", false, "  ");
          }
        }}
      />
    </div>
  );
}

"use client";

import { shortDigest } from "../lib/format.ts";
import { CopyButton } from "./copy-button.tsx";

/** A digest shortened to 12 hex digits (the full one on hover), with a button that copies it whole. */
export function RegistryDigest({ digest, testId }: { digest: string; testId?: string }) {
  return (
    <span className="digest">
      <code className="mono" title={digest} data-testid={testId} data-digest={digest}>
        {shortDigest(digest)}
      </code>
      <CopyButton text={digest} label="Copy" />
    </span>
  );
}

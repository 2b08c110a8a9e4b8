"use client";

import Link from "next/link";
import { agentCommand, currentOrigin } from "../lib/format.ts";

/** No hosts yet: how to add the first one. */
export function HostsEmpty() {
  const command = agentCommand(currentOrigin(), "<token>");
  return (
    <div className="panel empty" data-testid="hosts-empty">
      <h2>No hosts yet</h2>
      <p className="muted">A host joins the fleet when its agent connects with a one-time join token.</p>
      <ol className="steps">
        <li>
          <Link href="/join-tokens">Create a join token</Link> — it is shown only once.
        </li>
        <li>
          On the new host, run the agent with it:
          <pre className="code">{command}</pre>
        </li>
        <li>The host appears here as soon as it joins; this page updates by itself.</li>
      </ol>
    </div>
  );
}

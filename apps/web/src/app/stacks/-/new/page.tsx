"use client";

import { useQuery } from "@tanstack/react-query";
import Link from "next/link";
import { PageHeader } from "../../../../components/page-header.tsx";
import { StackEditor } from "../../../../components/stack-editor.tsx";
import { canChangeStacks, SAMPLE_STACK } from "../../../../lib/stacks.ts";
import { useTRPC } from "../../../../lib/trpc.ts";

/** A new stack: the editor with a sample file. (Under /stacks/-/ so no stack name can hide it.) */
export default function NewStackPage() {
  const trpc = useTRPC();
  const me = useQuery({ ...trpc.auth.me.queryOptions(), staleTime: 30_000 });
  return (
    <>
      <Link href="/stacks" className="back">
        ← Stacks
      </Link>
      <PageHeader
        title="New stack"
        subtitle="A Compose file with Swarm's deploy: section. Change the sample, plan, then apply."
      />
      {me.data && !canChangeStacks(me.data.role) ? (
        <div className="notice notice-warn" role="alert" data-testid="editor-forbidden">
          <strong>Only operators and above deploy stacks.</strong> As a {me.data.role} you can look at them.
        </div>
      ) : (
        <StackEditor initialYaml={SAMPLE_STACK} />
      )}
    </>
  );
}

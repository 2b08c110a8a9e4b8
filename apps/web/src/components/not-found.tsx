import Link from "next/link";
import type { ReactNode } from "react";
import { PageHeader } from "./page-header.tsx";

/** The link above a detail page back to its list ("← Hosts"). */
export function BackLink({ href, children }: { href: string; children: ReactNode }) {
  return (
    <Link href={href} className="back">
      ← {children}
    </Link>
  );
}

/** A detail page whose subject does not exist (or is not the viewer's): the way back, a title, and why. */
export function NotFound(props: { back: ReactNode; title: string; testId?: string; children: ReactNode }) {
  return (
    <>
      {props.back}
      <PageHeader title={props.title} />
      <div className="notice notice-error" data-testid={props.testId}>
        {props.children}
      </div>
    </>
  );
}

import { type ReactNode, Suspense } from "react";
import "./stacks.css";

/** The stack pages read their team from the URL (`?team=`), which needs a Suspense boundary. */
export default function StacksLayout({ children }: { children: ReactNode }) {
  return <Suspense>{children}</Suspense>;
}

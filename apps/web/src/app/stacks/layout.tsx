import type { ReactNode } from "react";
import "./stacks.css";

export default function StacksLayout({ children }: { children: ReactNode }) {
  return children;
}

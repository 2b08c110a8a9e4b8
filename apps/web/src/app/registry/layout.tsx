import type { ReactNode } from "react";
import "./registry.css";

export default function RegistryLayout({ children }: { children: ReactNode }) {
  return children;
}

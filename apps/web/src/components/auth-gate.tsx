"use client";

import { useQuery } from "@tanstack/react-query";
import { usePathname, useRouter } from "next/navigation";
import { type ReactNode, useEffect } from "react";
import { errorMessage } from "../lib/errors.ts";
import { useTRPC } from "../lib/trpc.ts";
import { TopBar } from "./top-bar.tsx";

/** Pages rendered without asking who is logged in: the login form, and `/`, which only redirects to /hosts. */
const PUBLIC_PATHS = new Set(["/login", "/"]);

/**
 * Every page but /login needs a session: while `auth.me` is loading the shell
 * shows a placeholder; when it says nobody is logged in, the browser goes to
 * /login with `next` set to come back here.
 */
export function AuthGate({ children }: { children: ReactNode }) {
  const trpc = useTRPC();
  const router = useRouter();
  const pathname = usePathname();
  const isPublic = PUBLIC_PATHS.has(pathname);
  const me = useQuery({ ...trpc.auth.me.queryOptions(), enabled: !isPublic, staleTime: 30_000 });
  const loggedOut = !isPublic && me.isSuccess && me.data === null;

  useEffect(() => {
    if (loggedOut) router.replace(`/login?next=${encodeURIComponent(pathname)}`);
  }, [loggedOut, pathname, router]);

  if (isPublic) return <>{children}</>;
  if (me.isError) {
    return (
      <div className="gate-message" role="alert">
        <strong>Cannot load the dashboard.</strong> {errorMessage(me.error)}
      </div>
    );
  }
  if (!me.data) {
    return (
      <div className="app">
        <TopBar user={null} />
        <main className="content">
          <p className="muted">{loggedOut ? "Redirecting to the login page…" : "Loading…"}</p>
        </main>
      </div>
    );
  }
  return (
    <div className="app">
      <TopBar user={me.data} />
      <main className="content">{children}</main>
    </div>
  );
}

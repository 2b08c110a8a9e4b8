"use client";

import { useMutation } from "@tanstack/react-query";
import Link from "next/link";
import { usePathname } from "next/navigation";
import { type Me, useTRPC } from "../lib/trpc.ts";

const NAV = [
  { href: "/hosts", label: "Hosts" },
  { href: "/stacks", label: "Stacks" },
  { href: "/registry", label: "Registry" },
  { href: "/join-tokens", label: "Join tokens" },
  { href: "/teams", label: "Teams" },
  { href: "/users", label: "Users" },
  { href: "/events", label: "Events" },
] as const;

export function TopBar({ user }: { user: Me | null }) {
  const trpc = useTRPC();
  const pathname = usePathname();
  const logout = useMutation(
    trpc.auth.logout.mutationOptions({
      // A full navigation drops every cached query of the old session.
      onSettled: () => window.location.assign("/login"),
    }),
  );
  return (
    <header className="topbar">
      <Link href="/hosts" className="brand" aria-label="Berth home">
        <span className="brand-mark" aria-hidden="true" />
        Berth
      </Link>
      <nav className="nav" aria-label="Main">
        {NAV.map((item) => {
          const active = pathname === item.href || pathname.startsWith(`${item.href}/`);
          return (
            <Link
              key={item.href}
              href={item.href}
              className={active ? "nav-link active" : "nav-link"}
              aria-current={active ? "page" : undefined}
            >
              {item.label}
            </Link>
          );
        })}
      </nav>
      {user && (
        <div className="user" data-testid="current-user">
          <span className="user-name">{user.username}</span>
          <span className="user-role">{user.role}</span>
          <button
            type="button"
            className="btn btn-ghost btn-sm"
            onClick={() => logout.mutate()}
            disabled={logout.isPending}
          >
            Log out
          </button>
        </div>
      )}
    </header>
  );
}

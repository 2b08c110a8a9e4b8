"use client";

import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useRouter, useSearchParams } from "next/navigation";
import { type FormEvent, useEffect, useState } from "react";
import { errorCode, errorMessage } from "../lib/errors.ts";
import { useTRPC } from "../lib/trpc.ts";

/** Only same-site paths: `next=//evil.example` or `next=https://…` go to /hosts instead. */
function safeNext(next: string | null): string {
  if (!next?.startsWith("/") || next.startsWith("//") || next.startsWith("/\\")) return "/hosts";
  if (next === "/login" || next.startsWith("/login?")) return "/hosts";
  return next;
}

export function LoginForm() {
  const trpc = useTRPC();
  const router = useRouter();
  const queryClient = useQueryClient();
  const next = safeNext(useSearchParams().get("next"));
  const [username, setUsername] = useState("");
  const [password, setPassword] = useState("");
  const me = useQuery(trpc.auth.me.queryOptions());
  const login = useMutation(
    trpc.auth.login.mutationOptions({
      onSuccess: async () => {
        await queryClient.invalidateQueries(trpc.auth.me.queryFilter());
        router.replace(next);
      },
    }),
  );

  // Already logged in (a bookmark to /login, the back button): go on.
  useEffect(() => {
    if (me.data) router.replace(next);
  }, [me.data, next, router]);

  const submit = (e: FormEvent) => {
    e.preventDefault();
    login.mutate({ username: username.trim(), password });
  };
  const error = login.error
    ? errorCode(login.error) === "UNAUTHORIZED" || errorCode(login.error) === "FORBIDDEN"
      ? "wrong username or password"
      : errorMessage(login.error)
    : null;

  return (
    <form className="login-card" onSubmit={submit} data-testid="login-form">
      <div className="login-brand">
        <span className="brand-mark" aria-hidden="true" />
        Berth
      </div>
      <h1>Log in</h1>
      <label className="form-field">
        <span>Username</span>
        <input
          name="username"
          autoComplete="username"
          required
          value={username}
          onChange={(e) => setUsername(e.target.value)}
        />
      </label>
      <label className="form-field">
        <span>Password</span>
        <input
          name="password"
          type="password"
          autoComplete="current-password"
          required
          value={password}
          onChange={(e) => setPassword(e.target.value)}
        />
      </label>
      {error && (
        <p className="form-error" role="alert" data-testid="login-error">
          {error}
        </p>
      )}
      <button type="submit" className="btn btn-primary btn-block" disabled={login.isPending}>
        {login.isPending ? "Logging in…" : "Log in"}
      </button>
    </form>
  );
}

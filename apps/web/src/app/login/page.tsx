import type { Metadata } from "next";
import { Suspense } from "react";
import { LoginForm } from "../../components/login-form.tsx";

export const metadata: Metadata = { title: "Log in" };

export default function LoginPage() {
  return (
    <div className="login-page">
      <Suspense fallback={null}>
        <LoginForm />
      </Suspense>
    </div>
  );
}

import type { Metadata, Viewport } from "next";
import type { ReactNode } from "react";
import { AuthGate } from "../components/auth-gate.tsx";
import { Providers } from "../components/providers.tsx";
import "./globals.css";
import "./styles/data.css";
import "./styles/forms.css";

export const metadata: Metadata = {
  title: { default: "Berth", template: "%s · Berth" },
  description: "Berth: containers across your fleet, from one dashboard.",
};

export const viewport: Viewport = { themeColor: "#0f172a" };

export default function RootLayout({ children }: { children: ReactNode }) {
  return (
    <html lang="en">
      <body>
        <Providers>
          <AuthGate>{children}</AuthGate>
        </Providers>
      </body>
    </html>
  );
}

"use client";

import { QueryClientProvider } from "@tanstack/react-query";
import { type ReactNode, useState } from "react";
import { makeQueryClient, makeTrpcClient } from "../lib/client.ts";
import { TRPCProvider } from "../lib/trpc.ts";

/** One query client and one tRPC client per browser tab. */
export function Providers({ children }: { children: ReactNode }) {
  const [queryClient] = useState(() =>
    makeQueryClient(() => {
      // The session is gone: ask again who we are; the auth gate redirects.
      void queryClient.invalidateQueries({ queryKey: [["auth", "me"]] });
    }),
  );
  const [trpcClient] = useState(makeTrpcClient);
  return (
    <QueryClientProvider client={queryClient}>
      <TRPCProvider trpcClient={trpcClient} queryClient={queryClient}>
        {children}
      </TRPCProvider>
    </QueryClientProvider>
  );
}

import { createTRPCContext } from "@trpc/tanstack-react-query";
import type { AppRouter, RouterOutputs } from "../server/trpc/router.ts";

/** The dashboard's typed tRPC hooks. Only the router's type crosses into the browser. */
export const { TRPCProvider, useTRPC, useTRPCClient } = createTRPCContext<AppRouter>();

/**
 * Dates travel as ISO strings (there is no superjson transformer), whatever
 * the inferred types say: every date field is widened to `Date | string` and
 * read through `toDate`.
 */
type Wire<T> = T extends Date
  ? Date | string
  : T extends Array<infer U>
    ? Wire<U>[]
    : T extends object
      ? { [K in keyof T]: Wire<T[K]> }
      : T;

export type Me = NonNullable<RouterOutputs["auth"]["me"]>;
export type Host = Wire<RouterOutputs["hosts"]["list"][number]>;
export type HostState = Host["state"];
export type FleetEvent = Wire<RouterOutputs["events"]["list"][number]>;
export type JoinToken = Wire<RouterOutputs["joinTokens"]["list"][number]>;
export type CreatedJoinToken = Wire<RouterOutputs["joinTokens"]["create"]>;
export type RegistryRepository = Wire<RouterOutputs["registry"]["repositories"][number]>;
export type RegistryTag = Wire<RouterOutputs["registry"]["repository"]["tags"][number]>;
export type RegistryManifest = Wire<RouterOutputs["registry"]["manifest"]>;
export type StackSummary = Wire<RouterOutputs["stacks"]["list"][number]>;
export type StackDetail = Wire<RouterOutputs["stacks"]["get"]>;
export type StackService = StackDetail["stack"]["services"][number];
export type StackTask = StackDetail["tasks"][number];
export type StackRevision = StackDetail["history"][number];
export type StackPlan = RouterOutputs["stacks"]["plan"]["plan"];
export type ServicePlan = StackPlan["services"][number];
export type SpecWarning = RouterOutputs["stacks"]["plan"]["warnings"][number];
export type PlanResult = RouterOutputs["stacks"]["plan"];
export type TeamRow = Wire<RouterOutputs["teams"]["list"][number]>;
export type TeamMembers = Wire<RouterOutputs["teams"]["members"]>;
export type TeamMember = TeamMembers["members"][number];
export type UserRow = Wire<RouterOutputs["users"]["list"][number]>;
export type CreatedUser = RouterOutputs["users"]["create"];

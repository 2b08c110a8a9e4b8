import { z } from "zod";

/** What an agent tells the control plane about its host. */
export const cgroupModeSchema = z.enum(["v1", "v2", "hybrid"]);
export type CgroupMode = z.infer<typeof cgroupModeSchema>;

const versionString = z.string().max(200);

export const hostFactsSchema = z.strictObject({
  hostname: z.string().min(1).max(253),
  os: z.string().max(200),
  arch: z.string().max(50),
  kernel: z.string().max(200),
  cpus: z.number().int().positive().max(65_536),
  memoryBytes: z.number().int().positive(),
  cgroupMode: cgroupModeSchema,
  runtime: z.strictObject({ name: z.enum(["runc", "crun"]), version: versionString }).nullable(),
  conmon: z.strictObject({ version: versionString }).nullable(),
  cniPlugins: z.array(z.string().max(100)).max(200),
});
export type HostFacts = z.infer<typeof hostFactsSchema>;

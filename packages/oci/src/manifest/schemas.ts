import { z } from "zod";
import { isDigest } from "../digest/digest.ts";

/** zod schemas for the OCI image spec documents (and Docker schema 2, which has the same shape). */

export const digestSchema = z.string().refine(isDigest, { message: "invalid digest (sha256:<64 hex>)" });
const annotationsSchema = z.record(z.string(), z.string());

export const platformSchema = z.object({
  architecture: z.string().min(1),
  os: z.string().min(1),
  "os.version": z.string().optional(),
  "os.features": z.array(z.string()).optional(),
  variant: z.string().optional(),
  features: z.array(z.string()).optional(),
});
export type Platform = z.infer<typeof platformSchema>;

export const descriptorSchema = z.object({
  mediaType: z.string().min(1),
  digest: digestSchema,
  size: z.number().int().nonnegative(),
  urls: z.array(z.string()).optional(),
  annotations: annotationsSchema.optional(),
  data: z.string().optional(),
  artifactType: z.string().optional(),
  platform: platformSchema.optional(),
});
export type Descriptor = z.infer<typeof descriptorSchema>;

export const imageManifestSchema = z.object({
  schemaVersion: z.literal(2),
  mediaType: z.string().optional(),
  artifactType: z.string().optional(),
  config: descriptorSchema,
  layers: z.array(descriptorSchema),
  subject: descriptorSchema.optional(),
  annotations: annotationsSchema.optional(),
});
export type ImageManifest = z.infer<typeof imageManifestSchema>;

export const imageIndexSchema = z.object({
  schemaVersion: z.literal(2),
  mediaType: z.string().optional(),
  artifactType: z.string().optional(),
  manifests: z.array(descriptorSchema),
  subject: descriptorSchema.optional(),
  annotations: annotationsSchema.optional(),
});
export type ImageIndex = z.infer<typeof imageIndexSchema>;

const emptyObjectMap = z.record(z.string(), z.object({}).loose());

/** The container defaults of an image config (`config` in the OCI image config). */
export const containerConfigSchema = z.object({
  User: z.string().optional(),
  ExposedPorts: emptyObjectMap.nullish(),
  Env: z.array(z.string()).nullish(),
  Entrypoint: z.array(z.string()).nullish(),
  Cmd: z.array(z.string()).nullish(),
  Volumes: emptyObjectMap.nullish(),
  WorkingDir: z.string().optional(),
  Labels: z.record(z.string(), z.string()).nullish(),
  StopSignal: z.string().optional(),
});
export type ContainerConfig = z.infer<typeof containerConfigSchema>;

export const historySchema = z.object({
  created: z.string().optional(),
  author: z.string().optional(),
  created_by: z.string().optional(),
  comment: z.string().optional(),
  empty_layer: z.boolean().optional(),
});
export type History = z.infer<typeof historySchema>;

export const imageConfigSchema = z.object({
  created: z.string().optional(),
  author: z.string().optional(),
  architecture: z.string().min(1),
  os: z.string().min(1),
  "os.version": z.string().optional(),
  "os.features": z.array(z.string()).optional(),
  variant: z.string().optional(),
  config: containerConfigSchema.optional(),
  rootfs: z.object({
    type: z.literal("layers"),
    diff_ids: z.array(digestSchema),
  }),
  history: z.array(historySchema).optional(),
});
export type ImageConfig = z.infer<typeof imageConfigSchema>;

/** What a pull reports as it goes; `id` is a layer's short blob digest (12 hex), as Docker shows it. */
export type PullEvent =
  | { type: "resolved"; ref: string; digest: string; layers: number }
  | { type: "layer"; id: string; status: LayerStatus }
  | { type: "progress"; id: string; current: number; total: number }
  | { type: "done"; ref: string; digest: string; status: "downloaded" | "up-to-date" };

export type LayerStatus = "Pulling fs layer" | "Waiting" | "Already exists" | "Downloading" | "Pull complete";

export type ProgressListener = (event: PullEvent) => void;

export const shortLayerId = (digest: string) =>
  digest.slice(digest.indexOf(":") + 1, digest.indexOf(":") + 13);

/** What a push reports as it goes; `id` is a layer's short diff ID (12 hex), as Docker shows it. */
export type PushEvent =
  | { type: "start"; repository: string; layers: number }
  | { type: "layer"; id: string; status: PushLayerStatus }
  | { type: "progress"; id: string; current: number; total: number }
  | { type: "done"; tag: string; digest: string; size: number };

export type PushLayerStatus =
  | "Preparing"
  | "Waiting"
  | "Pushing"
  | "Pushed"
  | "Layer already exists"
  | `Mounted from ${string}`;

export type PushProgressListener = (event: PushEvent) => void;

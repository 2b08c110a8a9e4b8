export { place } from "./place.ts";
export type {
  Assignment,
  PendingTask,
  PlacedTask,
  Placement,
  PublishedPort,
  SchedulerHost,
  Snapshot,
  Strategy,
  TaskDemand,
  Unplaced,
} from "./types.ts";

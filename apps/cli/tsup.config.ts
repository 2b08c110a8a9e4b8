import { defineConfig } from "tsup";
import { executable } from "../../tsup.executable.ts";

// The router is imported as a type only and is erased from the bundle.
export default defineConfig(executable("berth"));

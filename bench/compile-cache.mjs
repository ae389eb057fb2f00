// Preloaded with `node --import` into bench helper processes (the TS host, raw-copy): enables
// Node's compile cache for this process only (not its children, whose start-up is measured),
// so helpers skip TypeScript stripping after the first run.
import { enableCompileCache } from "node:module";

enableCompileCache();

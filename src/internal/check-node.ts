// Imported first by every public entry: on a Node older than the package supports, fail at once
// with one sentence that says what to do.
import { unsupportedNode } from "./node-support.ts";

const problem = unsupportedNode(process.versions.node);
if (problem !== undefined) throw new Error(problem);

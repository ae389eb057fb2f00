// What importing each public entry costs: none loads node:http2 or node:tls (they are loaded on
// first use, when a gRPC connection, a TLS identity or an in-process plugin is made).
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";

const entries = [
  "index.ts",
  "plugin/index.ts",
  "manager/index.ts",
  "testing/index.ts",
  "rpc/index.ts",
];

describe("public entries", () => {
  for (const entry of entries) {
    it(`plugwire ${entry} imports without loading node:http2 or node:tls`, () => {
      const file = fileURLToPath(new URL(entry, import.meta.url));
      const probe =
        `await import(${JSON.stringify(file)});` +
        "console.log(JSON.stringify(process.moduleLoadList.filter((m) => /^NativeModule (http2|tls)$/.test(m))));";
      const loaded = execFileSync(
        process.execPath,
        ["--conditions=plugwire-source", "--input-type=module", "-e", probe],
        { encoding: "utf8" },
      );
      assert.deepEqual(JSON.parse(loaded), []);
    });
  }
});

import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { plugwireVersion } from "../versions/plugwire-version.ts";
import { discoverPlugins } from "./discovery.ts";

const handshake = { magicCookieKey: "K", magicCookieValue: "v", protocolVersion: 1 };

describe("engines in discovery", () => {
  it("skips a package whose engines exclude this host as incompatible, naming the ranges, without running it", async () => {
    const dir = mkdtempSync(join(tmpdir(), "pw-engines-"));
    try {
      const pkg = (name: string, engines: Record<string, string>) => {
        mkdirSync(join(dir, name));
        // The entry would fail loudly if it ran: an incompatible plugin must never start.
        writeFileSync(join(dir, name, "main.mjs"), "process.exit(3);\n");
        writeFileSync(
          join(dir, name, "plugwire.json"),
          JSON.stringify({ id: name, entry: "main.mjs", engines }),
        );
      };
      pkg("for-myapp-2", { myapp: "^2" });
      pkg("for-future-plugwire", { plugwire: ">=99" });
      const result = await discoverPlugins({
        paths: [dir],
        handshake,
        hostVersions: { myapp: "3.0.0" },
        startTimeoutMs: 2000,
      });
      assert.deepEqual(result.found, []);
      const skipped = Object.fromEntries(
        result.skipped.map((s) => [s.path.slice(dir.length + 1), s]),
      );
      assert.equal(skipped["for-myapp-2"]?.reason, "incompatible");
      assert.equal(
        skipped["for-myapp-2"]?.message,
        "incompatible: plugin for-myapp-2 supports myapp ^2, this host is myapp 3.0.0: install a version of the plugin built for myapp 3.0.0",
      );
      assert.equal(skipped["for-myapp-2"]?.error?.code, "PLUGIN_INCOMPATIBLE");
      assert.equal(skipped["for-future-plugwire"]?.reason, "incompatible");
      assert.match(
        skipped["for-future-plugwire"]?.message ?? "",
        new RegExp(
          `supports plugwire >=99, this host is plugwire ${plugwireVersion().replaceAll(".", "\\.")}`,
        ),
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

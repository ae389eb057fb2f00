import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseConfig } from "../../config/config.ts";
import { PluginError } from "../../errors/plugin-error.ts";
import type { LockEntry } from "../../lock/lock-file.ts";
import { planInstall } from "./install-plan.ts";

const config = parseConfig(
  `[manager]
plugin_dirs = ["plugins"]
[services.kv]
driver = "npm:@acme/kv"
version = "^1.2"
[services.reports]
driver = "https://example.org/reports.git"
ref = "v2"
[services.inproc]
driver = "json"
`,
  "/p/plugwire.toml",
);
const lockFile = "/p/plugwire.lock";
const entry = (name: string, fields: Partial<LockEntry>): LockEntry => ({
  name,
  source: "npm:@acme/kv",
  sha256: "a".repeat(64),
  ...fields,
});

describe("install plan", () => {
  it("installs the fetchable services, reproducing the entries that still apply", () => {
    const lock = {
      plugins: {
        kv: entry("kv", { constraint: "^1.2", version: "1.4.0" }),
        reports: entry("reports", { source: "https://example.org/reports.git#v1" }),
        gone: entry("gone", { artifact: ".cache/plugwire/installed/gone/plugin" }),
        dropped: entry("dropped", { artifact: "plugins/dropped" }),
      },
    };
    const plan = planInstall(config, lock, lockFile);
    assert.deepEqual(
      plan.targets.map((t) => [t.name, t.source, t.locked?.version ?? null, t.dest]),
      [
        ["kv", "npm:@acme/kv", "1.4.0", "/p/.cache/plugwire/installed/kv"],
        // The ref changed: resolved anew.
        [
          "reports",
          "https://example.org/reports.git#v2",
          null,
          "/p/.cache/plugwire/installed/reports",
        ],
      ],
    );
    // No service names `gone`: dropped. `dropped` lies in a plugin directory (install <source>): kept.
    assert.deepEqual(plan.removed, ["gone"]);
    assert.deepEqual(
      plan.kept.map((e) => e.name),
      ["dropped"],
    );
  });

  it("keeps a locked version a changed constraint still allows, and resolves one it does not", () => {
    const lock = { plugins: { kv: entry("kv", { constraint: "^1", version: "1.4.0" }) } };
    const kept = planInstall(config, lock, lockFile, { only: ["kv"] }).targets[0]!;
    assert.equal(kept.locked?.version, "1.4.0");
    assert.equal(kept.locked?.constraint, "^1.2");
    const older = { plugins: { kv: entry("kv", { constraint: "^1", version: "1.1.0" }) } };
    assert.equal(
      planInstall(config, older, lockFile, { only: ["kv"] }).targets[0]!.locked,
      undefined,
    );
    const fresh = planInstall(config, lock, lockFile, { only: ["kv"], fresh: new Set(["kv"]) });
    assert.equal(fresh.targets[0]!.locked, undefined, "update resolves anew");
  });

  it("frozen: refuses at once, listing every service the lock does not cover", () => {
    const lock = {
      plugins: {
        kv: entry("kv", { constraint: "^1", version: "1.4.0" }),
        gone: entry("gone", {}),
      },
    };
    assert.throws(
      () => planInstall(config, lock, lockFile, { frozen: true }),
      (error: PluginError) => {
        assert.equal(error.code, "LOCK_FROZEN");
        assert.match(
          error.message,
          /services\.kv: the version constraint is now \^1\.2, the lock was written for \^1/,
        );
        assert.match(error.message, /services\.reports is not in the lock \(a new service\)/);
        assert.match(error.message, /plugins\.gone is locked but no service names it/);
        assert.match(error.message, /Nothing was fetched/);
        return true;
      },
    );
    assert.throws(
      () => planInstall(config, { plugins: {} }, lockFile, { only: ["nope"] }),
      (error: PluginError) =>
        error instanceof PluginError &&
        /no service "nope".*installable: kv, reports/.test(error.message),
    );
  });
});

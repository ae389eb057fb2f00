// The examples from the seeds, both ways with go-plugin v1.8.0: the Iglu host and plugins of the
// "Reliable Plugins in Go" post (a plugin folder of Go and TypeScript plugins, GetManifest, crash
// detection), and Reva's user provider drivers on net/rpc configured beside a gRPC driver.
import assert from "node:assert/strict";
import { join } from "node:path";
import { describe, it } from "node:test";
import { goBinary } from "../../test/support/interop.ts";
import { waitFor } from "../../test/support/wait.ts";
import { here, live, node, run } from "./run.ts";

const pluginDir = join(here, "iglu/plugins");

/** One of iglu-host's JSON lines. */
interface IgluEvent {
  readonly event: string;
  readonly file?: string;
  readonly pid?: number;
  readonly protocol?: string;
  readonly id?: string;
  readonly state?: string;
  readonly cached?: boolean;
  readonly manifest?: { readonly Id: string; readonly Name: string };
}

/** reva-userprovider -host's report. */
interface RevaReport {
  readonly protocol: string;
  readonly getUser: unknown;
  readonly getUserByClaim: { readonly Username: string; readonly Groups: string[] | null };
  readonly getUserGroups: string[];
  readonly findUsers: Array<{ readonly Username: string }>;
  readonly missingError: string;
}

/** The pid in a host's "loaded" line. */
const pidOf = (line: string) => Number(/pid (\d+)/.exec(line)?.[1]);

describe("Iglu (the post's host and plugins)", () => {
  it("the TypeScript host loads the folder, reports the plugin that crashed, and carries on", async () => {
    await using host = live(node, [join(here, "iglu/host.ts")]);
    const go = await host.line(
      /^loaded amazing v0\.1\.0: Amazing Plugin .*\[manifest, go\] \(go-amazing, netrpc, pid \d+\)$/,
    );
    const ts = await host.line(
      /^loaded frosty v0\.2\.0: Frosty Plugin .*\[manifest, typescript\] \(ts-frosty, netrpc, pid \d+\)$/,
    );
    await host.line(/^ready: 2 plugins$/);
    process.kill(pidOf(ts), "SIGKILL");
    const at = host.lines.length;
    await host.line(/^crashed frosty: the plugin crashed \(signal SIGKILL\)$/, at);
    await host.line(/^listed$/, at);
    const listing = host.lines.slice(at);
    assert.ok(listing.includes("  amazing: running, Amazing Plugin v0.1.0"), listing.join("\n"));
    assert.ok(listing.includes("  frosty: crashed, cached manifest Frosty Plugin v0.2.0"));
    process.kill(pidOf(go), 0); // the Go plugin still runs
  });

  it("the post's Go host (go-plugin) loads the TypeScript plugin beside the Go one and marks it crashed", async () => {
    await using host = live(goBinary("iglu-host"), ["-dir", pluginDir, "-watch"]);
    await host.line(/"event":"ready","plugins":2/);
    const events = () => host.lines.map((line) => JSON.parse(line) as IgluEvent);
    const loaded = events().filter((e) => e.event === "loaded");
    assert.deepEqual(
      loaded.map((e) => [e.file, e.protocol, e.manifest?.Id]),
      [
        ["go-amazing", "netrpc", "amazing"],
        ["ts-frosty", "netrpc", "frosty"],
      ],
    );
    assert.deepEqual(loaded[1]!.manifest, {
      Id: "frosty",
      Name: "Frosty Plugin",
      Author: "Someone Frosty",
      Version: "v0.2.0",
      Description: "an Iglu plugin in TypeScript",
      Capabilities: ["manifest", "typescript"],
    });
    process.kill(loaded[1]!.pid!, "SIGKILL");
    // The post polls client.Exited(): ask again until go-plugin has seen the exit.
    await waitFor(
      async () => {
        const from = host.lines.length;
        host.child.stdin.write("check\n");
        await host.line(/"event":"checked"/, from);
        return events()
          .slice(from)
          .some((e) => e.id === "frosty" && e.state === "crashed");
      },
      20_000,
      "iglu-host to mark frosty crashed",
    );
    const from = host.lines.length;
    host.child.stdin.write("manifests\n");
    await host.line(/"event":"listed"/, from);
    const manifests = events()
      .slice(from)
      .filter((e) => e.event === "manifest");
    assert.deepEqual(
      manifests.map((e) => [e.id, e.cached ?? false, e.manifest?.Name]),
      [
        ["amazing", false, "Amazing Plugin"],
        ["frosty", true, "Frosty Plugin"],
      ],
    );
  });
});

describe("Reva user providers over net/rpc, configured beside a gRPC driver", () => {
  it("one configuration: the gRPC driver and the Go and TypeScript net/rpc drivers all answer", async () => {
    const result = await run(node, [join(here, "reva/host.ts")]);
    assert.equal(result.code, 0, result.stderr);
    const lines = result.stdout.trim().split("\n");
    assert.equal(
      lines[0],
      "users-grpc (grpc)   Marie Curie <marie@example.org>; example.org: 3 users",
    );
    for (const [i, name] of [
      [1, "users-go"],
      [2, "users-ts"],
    ] as const)
      assert.equal(
        lines[i],
        `${name} (netrpc) Marie Curie <marie@example.org>; mail richard@example.org: richard; groups physics,chemistry; example.org: 3 users`,
      );
  });

  for (const [label, driver] of [
    ["the TypeScript driver", () => [node, join(here, "reva/driver-ts/main.ts")]],
    ["the Go driver", () => [goBinary("reva-userprovider")]],
  ] as const) {
    it(`a Reva-like Go host (go-plugin) calls every method of ${label}`, async () => {
      const args = ["-host", "-users", join(here, "reva/users.json"), "--", ...driver()];
      const result = await run(goBinary("reva-userprovider"), args);
      assert.equal(result.code, 0, `${result.stdout}\n${result.stderr}`);
      const report = JSON.parse(result.stdout) as RevaReport;
      assert.equal(report.protocol, "netrpc");
      assert.deepEqual(report.getUser, {
        Id: { Idp: "example.org", OpaqueId: "marie" },
        Username: "marie",
        Mail: "marie@example.org",
        DisplayName: "Marie Curie",
        Groups: ["physics", "chemistry"],
      });
      assert.equal(report.getUserByClaim.Username, "einstein");
      assert.equal(report.getUserByClaim.Groups, null); // skipped, and gob sends no empty slice
      assert.deepEqual(report.getUserGroups, ["physics", "bongos"]);
      assert.deepEqual(
        report.findUsers.map((u) => u.Username),
        ["einstein", "marie", "richard"],
      );
      assert.equal(report.missingError, "error: not found: user nobody");
    });
  }
});

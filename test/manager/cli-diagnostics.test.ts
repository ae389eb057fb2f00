// The CLI's diagnostics, through the real CLI: missing paths named as missing, empty folders and
// failing plugins exit 1 with the plugin's stderr tail, progress as plain lines or one terminal line.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { repoRoot, tempDir, writeScript } from "./support.ts";

const cli = join(repoRoot, "bin/plugwire.js");
const run = (cwd: string, ...args: string[]) => {
  const result = spawnSync(process.execPath, [cli, ...args], {
    cwd,
    encoding: "utf8",
    timeout: 120_000,
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
};
const cookie = ["--cookie", "USERS_PLUGIN=users"];

/** A TypeScript plugin source whose local dependency has a postinstall that writes `marker`. */
function scriptedSource(dir: string, marker: string): void {
  const write = (name: string, text: string) => {
    mkdirSync(join(dir, name, ".."), { recursive: true });
    writeFileSync(join(dir, name), text);
  };
  write("plugwire.json", JSON.stringify({ id: "scripted", version: "0.2.0", entry: "main.ts" }));
  write(
    "main.ts",
    `import { serveProviders } from "plugwire/manager";
import { answer } from "with-script";
await serveProviders({
  handshake: { magicCookieKey: "USERS_PLUGIN", magicCookieValue: "users", protocolVersion: 1 },
  manifest: { id: "scripted", version: "0.2.0" },
  providers: { answer: { execute: () => answer } },
});
`,
  );
  write(
    "package.json",
    JSON.stringify({ name: "scripted", dependencies: { "with-script": "file:./with-script" } }),
  );
  write(
    "with-script/package.json",
    JSON.stringify({
      name: "with-script",
      version: "1.0.0",
      type: "module",
      main: "index.js",
      scripts: {
        postinstall: `node -e "require('fs').writeFileSync('${marker}', 'ran')"`,
      },
    }),
  );
  write("with-script/index.js", "export const answer = 42;\n");
}

describe("plugwire CLI diagnostics", () => {
  it("names a path that does not exist as missing, and fails on a folder with no plugin", () => {
    using tmp = tempDir();
    mkdirSync(join(tmp.dir, "empty"));
    for (const args of [
      ["inspect", "./no-such-plugin"],
      ["call", "./no-such-plugin", "echo", "{}"],
    ]) {
      const result = run(tmp.dir, ...args, ...cookie);
      assert.equal(result.code, 1, args[0]);
      assert.match(
        result.stderr,
        /\.\/no-such-plugin does not exist: no file or folder at \/.*no-such-plugin/,
      );
      assert.doesNotMatch(result.stderr, /vanished/);
    }
    const listMissing = run(tmp.dir, "list", "./nodir", ...cookie);
    assert.equal(listMissing.code, 1);
    assert.match(listMissing.stderr, /plugwire: \.\/nodir does not exist/);
    const doctorMissing = run(tmp.dir, "doctor", "./nodir", ...cookie);
    assert.equal(doctorMissing.code, 1);
    assert.match(doctorMissing.stdout, /✖ nodir\n {4}missing: \.\/nodir does not exist/);

    const listEmpty = run(tmp.dir, "list", "empty", ...cookie);
    assert.equal(listEmpty.code, 1);
    assert.match(listEmpty.stderr, /no working plugin in empty/);
    const doctorEmpty = run(tmp.dir, "doctor", "empty", ...cookie, "--json");
    assert.equal(doctorEmpty.code, 1);
    assert.equal(JSON.parse(doctorEmpty.stdout).empty, true);
  });

  it("doctor, list and install show the stderr tail of a plugin that fails to start", () => {
    using tmp = tempDir();
    mkdirSync(join(tmp.dir, "plugins"));
    const broken = writeScript(
      join(tmp.dir, "plugins/broken"),
      'echo "loading config" >&2\necho "fatal: cannot read /etc/broken.conf" >&2\nexit 3',
    );
    const doctor = run(tmp.dir, "doctor", "plugins", ...cookie);
    assert.equal(doctor.code, 1);
    assert.match(
      doctor.stdout,
      /crashed: plugin exited before we could connect \(exit status 3\)[^\n]*\n {4}stderr \(last 2 lines\):\n {6}loading config\n {6}fatal: cannot read \/etc\/broken\.conf/,
    );
    const doctorJson = JSON.parse(run(tmp.dir, "doctor", "plugins", ...cookie, "--json").stdout);
    assert.match(doctorJson.candidates[0].stderr, /fatal: cannot read/);

    const list = run(tmp.dir, "list", "plugins", ...cookie);
    assert.equal(list.code, 1, "no working plugin");
    assert.match(list.stderr, /✖ plugins\/broken: crashed:[^\n]*\n[^\n]*\n {6}loading config/);
    assert.match(list.stderr, /fatal: cannot read \/etc\/broken\.conf/);

    const install = run(tmp.dir, "install", broken, "--dir", "installed", ...cookie);
    assert.equal(install.code, 1);
    assert.match(install.stderr, /does not work, so it was removed again: crashed:/);
    assert.match(install.stderr, /fatal: cannot read \/etc\/broken\.conf/);
    assert.deepEqual(readdirSync(join(tmp.dir, "installed")), [], "the failed plugin is removed");
  });

  it("install builds a TypeScript source with its dependencies, running install scripts only with --allow-scripts", () => {
    using tmp = tempDir();
    const marker = join(tmp.dir, "postinstall-ran");
    scriptedSource(join(tmp.dir, "scripted"), marker);
    const install = (...extra: string[]) =>
      run(
        tmp.dir,
        "install",
        "scripted",
        "--dir",
        "plugins",
        "--cache-dir",
        "cache",
        ...cookie,
        ...extra,
      );

    const plain = install();
    assert.equal(plain.code, 0, plain.stderr);
    assert.match(plain.stdout, /installed .*plugins\/scripted: starts and answers/);
    // Off a terminal: one plain line per step.
    assert.match(
      plain.stderr,
      /^… installing dependencies \(npm install, --ignore-scripts\)\n… bundling scripted \(esbuild\)\n… building scripted's startup snapshot \(node --build-snapshot\)\n… built [0-9a-f]{12}\n… checking that it starts\n$/,
    );
    assert.equal(existsSync(marker), false, "install scripts are off by default");
    const call = run(tmp.dir, "call", "plugins/scripted", "answer", "{}", ...cookie);
    assert.equal(call.code, 0, call.stderr);
    assert.equal(JSON.parse(call.stdout), 42);

    const allowed = install("--allow-scripts");
    assert.equal(allowed.code, 0, allowed.stderr);
    assert.match(
      allowed.stderr,
      /installing dependencies \(npm install, install scripts allowed\)/,
    );
    assert.equal(existsSync(marker), true, "--allow-scripts runs the postinstall");
  });

  it("on a terminal, progress is one line rewritten in place and cleared before the result", () => {
    using tmp = tempDir();
    const source = join(repoRoot, "examples/manager/providers/plugins/text");
    const command = [
      process.execPath,
      cli,
      "install",
      source,
      "--dir",
      "plugins",
      "--cache-dir",
      "cache",
      "--cookie",
      "PLUGWIRE_EXAMPLE_PROVIDER=provider_plugin",
    ]
      .map((a) => `'${a}'`)
      .join(" ");
    // util-linux script(1) runs the CLI on a pseudo-terminal.
    const result = spawnSync("script", ["-qec", command, "/dev/null"], {
      cwd: tmp.dir,
      encoding: "utf8",
      timeout: 120_000,
      env: { ...process.env, COLUMNS: "100" },
    });
    assert.equal(result.status, 0, result.stdout);
    const out = result.stdout;
    const before = out.slice(0, out.indexOf("installed "));
    const line = "\r\x1b[2K"; // carriage return, erase the line
    assert.ok(before.includes(`${line}… bundling example.text`), JSON.stringify(before));
    assert.ok(before.includes(`${line}… checking that it starts`), JSON.stringify(before));
    assert.ok(!before.includes("\n"), JSON.stringify(before));
    assert.ok(before.endsWith(line), "the progress line is cleared before the result");
    assert.match(out, /installed .*example\.text: starts and answers/);
  });
});

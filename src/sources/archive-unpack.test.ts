import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { zipSync } from "fflate";
import type { PluginError } from "../errors/plugin-error.ts";
import { unpackArchive } from "./archive-unpack.ts";

const url = "https://example.com/r/greeter_1.0.0_linux_amd64.zip";
const text = (s: string) => new TextEncoder().encode(s);

async function unpack(files: Record<string, Uint8Array>) {
  const dir = mkdtempSync(join(tmpdir(), "pw-unpack-"));
  const cleanup = () => rmSync(dir, { recursive: true, force: true });
  try {
    const file = join(dir, "release.zip");
    writeFileSync(file, zipSync(files));
    const out = join(dir, "out");
    mkdirSync(out);
    return { dir: out, found: await unpackArchive(file, out, url, "greeter"), cleanup };
  } catch (error) {
    cleanup();
    throw error;
  }
}

describe("unpackArchive", () => {
  it("finds the one executable beside documents and makes it executable", async () => {
    const { dir, found, cleanup } = await unpack({
      "greeter_v1.0.0": text("#!/bin/sh\n"),
      "README.md": text("# greeter\n"),
      LICENSE: text("MPL-2.0\n"),
    });
    try {
      assert.deepEqual(found, {
        kind: "executable",
        path: join(dir, "greeter_v1.0.0"),
        executable: join(dir, "greeter_v1.0.0"),
      });
      assert.equal(statSync(found.executable).mode & 0o777, 0o755);
      assert.equal(statSync(join(dir, "README.md")).mode & 0o111, 0);
    } finally {
      cleanup();
    }
  });

  it("among several files, takes the one named like the archive", async () => {
    const { dir, found, cleanup } = await unpack({
      helper: text("x"),
      greeter: text("#!/bin/sh\n"),
    });
    try {
      assert.equal(found.executable, join(dir, "greeter"));
    } finally {
      cleanup();
    }
  });

  it("takes a package folder with its manifest, at the top or in one folder", async () => {
    const manifest = JSON.stringify({ id: "greeter", entry: "bin/greeter" });
    const { dir, found, cleanup } = await unpack({
      "greeter/plugwire.json": text(manifest),
      "greeter/bin/greeter": text("#!/bin/sh\n"),
    });
    try {
      assert.equal(found.kind, "folder");
      assert.equal(found.path, join(dir, "greeter"));
      assert.equal(found.executable, join(dir, "greeter/bin/greeter"));
      assert.equal(statSync(found.executable).mode & 0o111, 0o111);
    } finally {
      cleanup();
    }
  });

  it("unpacks a .tar.gz with the system tar, and refuses one holding a link", async () => {
    const dir = mkdtempSync(join(tmpdir(), "pw-unpack-"));
    try {
      mkdirSync(join(dir, "src"));
      writeFileSync(join(dir, "src/greeter"), "#!/bin/sh\n");
      writeFileSync(join(dir, "src/README.md"), "# greeter\n");
      execFileSync("tar", [
        "-czf",
        join(dir, "r.tar.gz"),
        "-C",
        join(dir, "src"),
        "greeter",
        "README.md",
      ]);
      mkdirSync(join(dir, "out"));
      const tgz = url.replace(/\.zip$/, ".tar.gz");
      const found = await unpackArchive(join(dir, "r.tar.gz"), join(dir, "out"), tgz, "greeter");
      assert.equal(found.executable, join(dir, "out/greeter"));
      assert.equal(statSync(found.executable).mode & 0o111, 0o111);
      execFileSync("ln", ["-s", "/etc/passwd", join(dir, "src/link")]);
      execFileSync("tar", [
        "-czf",
        join(dir, "l.tar.gz"),
        "-C",
        join(dir, "src"),
        "greeter",
        "link",
      ]);
      mkdirSync(join(dir, "out2"));
      await assert.rejects(
        unpackArchive(join(dir, "l.tar.gz"), join(dir, "out2"), tgz, "greeter"),
        (error: PluginError) => error.code === "FETCH_FAILED" && /link/.test(error.message),
      );
      assert.equal(existsSync(join(dir, "out2/link")), false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("refuses entries that leave the folder, archives that are not zips, and no executable", async () => {
    const parent = join(tmpdir(), "pw-unpack-escaped");
    await assert.rejects(
      unpack({ "../pw-unpack-escaped": text("x") }),
      (error: PluginError) =>
        error.code === "FETCH_FAILED" && /outside the archive/.test(error.message),
    );
    assert.equal(existsSync(parent), false);
    const dir = mkdtempSync(join(tmpdir(), "pw-unpack-"));
    try {
      writeFileSync(join(dir, "broken.zip"), "not a zip at all");
      await assert.rejects(
        unpackArchive(join(dir, "broken.zip"), dir, url, "greeter"),
        (error: PluginError) => error.code === "FETCH_FAILED" && error.plugin === "greeter",
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    await assert.rejects(
      unpack({ "plugwire.json": text(JSON.stringify({ id: "g", entry: "/bin/sh" })) }),
      (error: PluginError) =>
        error.code === "NOT_A_PLUGIN" && /not a file in the archive/.test(error.message),
    );
    await assert.rejects(
      unpack({ "README.md": text("x"), "a.txt": text("y") }),
      (error: PluginError) => error.code === "NOT_A_PLUGIN",
    );
  });
});

import assert from "node:assert/strict";
import { existsSync, mkdtempSync, rmSync, statSync } from "node:fs";
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
    return { dir, found: await unpackArchive(zipSync(files), dir, url, "greeter"), cleanup };
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
      await assert.rejects(
        unpackArchive(text("not a zip at all"), dir, url, "greeter"),
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

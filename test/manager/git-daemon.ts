// A git daemon on loopback serving the repositories under a directory (git://127.0.0.1:<port>/<name>).
import { execFileSync, spawn } from "node:child_process";
import { connect } from "node:net";
import { join } from "node:path";
import { freePort } from "../support/registries/ports.ts";
import { waitFor } from "./support.ts";

export async function startGitDaemon(basePath: string) {
  const port = await freePort();
  // git-daemon itself, not `git daemon`: the git wrapper would run it as a child, and killing the
  // wrapper would leave the daemon listening.
  const gitDaemon = join(
    execFileSync("git", ["--exec-path"], { encoding: "utf8" }).trim(),
    "git-daemon",
  );
  const daemon = spawn(
    gitDaemon,
    [
      "--export-all",
      "--reuseaddr",
      "--listen=127.0.0.1",
      `--port=${port}`,
      `--base-path=${basePath}`,
      basePath,
    ],
    { stdio: "ignore" },
  );
  await waitFor(
    () =>
      new Promise<boolean>((resolve) => {
        const socket = connect(port, "127.0.0.1");
        socket.once("connect", () => {
          socket.destroy();
          resolve(true);
        });
        socket.once("error", () => resolve(false));
      }),
    10_000,
    "git daemon to listen",
  );
  return {
    url: (name: string) => `git://127.0.0.1:${port}/${name}`,
    [Symbol.dispose]: () => daemon.kill("SIGKILL"),
  };
}

/** Runs git in `cwd` with a fixed identity. */
export function git(cwd: string, ...args: string[]): string {
  return execFileSync("git", args, {
    cwd,
    encoding: "utf8",
    env: {
      ...process.env,
      GIT_AUTHOR_NAME: "plugwire",
      GIT_AUTHOR_EMAIL: "tests@plugwire.invalid",
      GIT_COMMITTER_NAME: "plugwire",
      GIT_COMMITTER_EMAIL: "tests@plugwire.invalid",
    },
  }).trim();
}

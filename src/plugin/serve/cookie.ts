import type { HandshakeConfig } from "../../protocol/env.ts";
import { cookieMismatchMessage } from "../../protocol/env.ts";
import { exitWith } from "./exit.ts";
import type { StdioCapture } from "./stdio-capture.ts";

/** go-plugin's text for a ServeConfig without a cookie: the plugin's author has to fix it. */
const noCookieMessage =
  "Misconfigured ServeConfig given to serve this plugin: no magic cookie\nkey or value was set. Please notify the plugin author and report\nthis as a bug.\n";

/**
 * go-plugin's magic-cookie check: a plugin started by anything but its host (someone running
 * it by hand) says so on stderr and exits 1, as Go plugins do. Debug mode does not check.
 */
export async function checkCookie(
  handshake: HandshakeConfig,
  env: NodeJS.ProcessEnv,
  stdio: StdioCapture,
): Promise<void> {
  if (handshake.magicCookieKey === "" || handshake.magicCookieValue === "") {
    await exitWith(stdio, 1, noCookieMessage);
  }
  if (env[handshake.magicCookieKey] !== handshake.magicCookieValue) {
    await exitWith(stdio, 1, cookieMismatchMessage);
  }
}

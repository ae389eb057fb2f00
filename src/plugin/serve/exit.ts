import type { StdioCapture } from "./stdio-capture.ts";

/**
 * Ends the plugin process with `code` once `message`, and every log line written before it, has
 * reached the real stderr, where the host reads why the plugin stopped.
 */
export async function exitWith(stdio: StdioCapture, code: number, message = ""): Promise<never> {
  await new Promise<void>((resolve) => stdio.writeRealStderr(message, () => resolve()));
  process.exit(code);
}

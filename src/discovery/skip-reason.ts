import { PluginError } from "../errors/plugin-error.ts";
import type { SkipReason } from "./candidates.ts";

const labels: Record<SkipReason, string> = {
  "not-a-plugin": "not a plugin",
  "not-executable": "not executable",
  "wrong-cookie": "wrong cookie",
  "version-mismatch": "version mismatch",
  incompatible: "incompatible",
  crashed: "crashed",
  "timed-out": "timed out",
  "invalid-manifest": "invalid manifest",
  "not-trusted": "not trusted",
  failed: "failed",
};

/** Maps a start failure to a skip reason and a one-line explanation. */
export function explainFailure(error: unknown): { reason: SkipReason; message: string } {
  const failure = PluginError.from(error);
  const reason = reasonFor(failure);
  let text = firstLine(failure.rawMessage);
  if (failure.code === "HANDSHAKE_INVALID" && typeof failure.details.line === "string")
    text = `its first output line is not a go-plugin handshake: ${JSON.stringify(failure.details.line.slice(0, 60))}`;
  return { reason, message: `${labels[reason]}: ${text}` };
}

function reasonFor(error: PluginError): SkipReason {
  switch (error.code) {
    case "HANDSHAKE_INVALID":
    case "PROTOCOL_UNSUPPORTED":
    case "NOT_A_PLUGIN":
      return "not-a-plugin";
    case "COOKIE_MISMATCH":
      return "wrong-cookie";
    case "PROTOCOL_VERSION_MISMATCH":
    case "CORE_VERSION_MISMATCH":
      return "version-mismatch";
    case "PLUGIN_INCOMPATIBLE":
      return "incompatible";
    case "PLUGIN_EXITED":
      return "crashed";
    case "HANDSHAKE_TIMEOUT":
    case "DEADLINE_EXCEEDED":
      return "timed-out";
    case "SPAWN_FAILED":
      return error.details.errno === "EACCES" || /not executable/.test(error.rawMessage)
        ? "not-executable"
        : "failed";
    case "CONFIG_INVALID":
      return "invalid-manifest";
    default:
      return "failed";
  }
}

function firstLine(text: string): string {
  const line = text.split("\n")[0] ?? "";
  return line.length > 200 ? `${line.slice(0, 197)}...` : line;
}

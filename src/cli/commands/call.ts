import type { JsonValue } from "@bufbuild/protobuf";
import { PluginError } from "../../errors/plugin-error.ts";
import { Provider } from "../../gen/plugwire/manifest/v1/manifest_pb.js";
import { callJson } from "../../manager/json-call.ts";
import type { CliContext } from "../context.ts";
import { UsageError } from "../context.ts";
import { printJson } from "../output.ts";
import { openTarget } from "../target.ts";

/**
 * `plugwire call <plugin> <provider | package.Service/Method> [json]`: invokes a named provider
 * or any method the plugin describes, with JSON input (argument or stdin), and prints JSON.
 */
export async function call(
  target: string,
  what: string,
  input: string | undefined,
  context: CliContext & { timeoutMs?: number },
): Promise<number> {
  const text = input ?? (process.stdin.isTTY ? "{}" : await readStdin());
  let json: JsonValue;
  try {
    json = JSON.parse(text === "" ? "{}" : text) as JsonValue;
  } catch (error) {
    throw new UsageError(`input is not JSON: ${(error as Error).message}`);
  }
  const { plugin, close } = await openTarget(target, context);
  try {
    const options = { timeoutMs: context.timeoutMs ?? 30_000 };
    let output: unknown;
    if (what.includes("/")) {
      output = await callJson(plugin.connection!, plugin.manifest, what, json, options);
    } else {
      if (!plugin.manifest.providers.some((p) => p.name === what))
        throw new PluginError(
          "PROVIDER_UNKNOWN",
          `${plugin.id} has no provider ${JSON.stringify(what)} (providers: ${plugin.manifest.providers.map((p) => p.name).join(", ") || "none"}; for a method use package.Service/Method)`,
        );
      const response = await plugin
        .client(Provider)
        .execute({ name: what, inputJson: JSON.stringify(json) }, options);
      output = response.outputJson === "" ? null : JSON.parse(response.outputJson);
    }
    printJson(output);
    return 0;
  } finally {
    await close();
  }
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8").trim();
}

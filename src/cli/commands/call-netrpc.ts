// `plugwire call <plugin> [NAME/]Plugin.Method [json]` for plugins on go-plugin's net/rpc
// protocol. net/rpc describes nothing (no reflection, no descriptors), and gob needs a type to
// encode: the argument's Go type is `--args-type` (a small Go type syntax), else read off the
// JSON value's shape. gob describes itself, so the reply is decoded without one and printed as
// JSON.
import { PluginError } from "../../errors/plugin-error.ts";
import type { GoType } from "../../gob/types.ts";
import type { NetRpcInterface } from "../../rpc/netrpc/define.ts";
import type { CliContext } from "../context.ts";
import { UsageError } from "../context.ts";
import { parseGoType } from "../go-type-syntax.ts";
import { fromJson, inferGoType, toJson } from "../netrpc-json.ts";
import { printJson } from "../output.ts";
import { openTarget } from "../target.ts";

/** Deadline of the call (the plugin still runs it past that: net/rpc cannot cancel). */
const callTimeoutMs = 30_000;

export interface NetRpcMethodName {
  /** The plugin to dispense (go-plugin's plugin name); undefined: from the configuration. */
  readonly plugin: string | undefined;
  /** The Go method, served as `Plugin.<method>` on the dispensed stream. */
  readonly method: string;
}

/**
 * `NAME/Plugin.Method` or `Plugin.Method`: go-plugin serves every dispensed plugin as `Plugin`,
 * which no gRPC method path can be mistaken for (a gRPC method has no dot).
 */
export function netrpcMethodName(what: string): NetRpcMethodName | undefined {
  const match = /^(?:([^/\s]+)\/)?Plugin\.(\p{Lu}[\p{L}\p{N}_]*)$/u.exec(what);
  if (match === null) return undefined;
  return { plugin: match[1], method: match[2]! };
}

export interface NetRpcCallFlags {
  /** The argument's Go type (`string`, `struct{Key string; Value []byte}`, …). */
  readonly argsType?: string | undefined;
}

/** Calls the method with the JSON argument and prints the reply as JSON. */
export async function callNetRpc(
  target: string,
  name: NetRpcMethodName,
  json: unknown,
  context: CliContext,
  flags: NetRpcCallFlags,
): Promise<number> {
  const plugin = name.plugin ?? context.config?.services[target]?.netrpcPlugin;
  if (plugin === undefined)
    throw new UsageError(
      `name the net/rpc plugin to dispense: NAME/Plugin.${name.method} (go-plugin's plugin name, such as greeter/Plugin.Greet)`,
    );
  const argsType: GoType =
    flags.argsType === undefined ? inferGoType(json) : parseGoType(flags.argsType);
  const args = fromJson(argsType, json);
  // No reply type: the client then decodes the reply as gob describes it.
  const iface = {
    kind: "netrpc-interface",
    methods: { [name.method]: { args: argsType, reply: undefined as unknown as GoType } },
  } as const satisfies NetRpcInterface;
  const { plugin: managed, close } = await openTarget(target, context, { [plugin]: iface });
  const path = `${plugin}/Plugin.${name.method}`;
  try {
    const client = managed.dispense(plugin, iface) as Record<
      string,
      (args: unknown, options: { timeoutMs: number }) => Promise<unknown>
    >;
    printJson(toJson(await client[name.method]!(args, { timeoutMs: callTimeoutMs })));
    return 0;
  } catch (error) {
    const failure = PluginError.from(error);
    throw new PluginError(failure.code, `${path}: ${failure.rawMessage}`, {
      plugin: managed.id,
      cause: failure,
      details: failure.details,
    });
  } finally {
    await close();
  }
}

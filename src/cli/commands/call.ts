import { createInterface } from "node:readline";
import type { DescMethod, DescService, FileRegistry, JsonValue } from "@bufbuild/protobuf";
import { createFileRegistry, fromBinary, fromJson, toJson } from "@bufbuild/protobuf";
import { FileDescriptorSetSchema } from "@bufbuild/protobuf/wkt";
import { PluginError } from "../../errors/plugin-error.ts";
import { Provider } from "../../gen/plugwire/manifest/v1/manifest_pb.js";
import { findService } from "../../providers/json-call.ts";
import type { CallOptions } from "../../rpc/core/types.ts";
import { ReflectionClient } from "../../rpc/reflection/client.ts";
import type { ManagedPlugin } from "../../supervisor/managed-plugin.ts";
import type { CliContext } from "../context.ts";
import { UsageError } from "../context.ts";
import { printJson } from "../output.ts";
import type { ProtoFlags } from "../proto-files.ts";
import { loadProtoFiles } from "../proto-files.ts";
import { openTarget } from "../target.ts";
import type { NetRpcCallFlags } from "./call-netrpc.ts";
import { callNetRpc, netrpcMethodName } from "./call-netrpc.ts";

/** Deadline of unary and client-streaming calls; server and bidi streams run until they end. */
const callTimeoutMs = 30_000;

type AnyMethod = (input: unknown, options?: CallOptions) => unknown;

/**
 * `plugwire call <plugin> <provider | package.Service/Method | list> [json]`: invokes a named
 * provider or any method of the plugin with JSON (argument or stdin) and prints JSON, like
 * grpcurl. Methods are described by `--proto`/`--protoset` when given, else by the plugin's
 * published descriptors, else by gRPC server reflection (which go-plugin's Go plugins and every
 * plugwire plugin serve). Server streams print one JSON line per message; client and bidi
 * streams read one JSON message per stdin line. `list [service]` prints services and methods.
 * `[NAME/]Plugin.Method` calls a method of a net/rpc plugin (call-netrpc.ts).
 */
export async function call(
  target: string,
  what: string,
  input: string | undefined,
  context: CliContext,
  flags: ProtoFlags & NetRpcCallFlags = {},
): Promise<number> {
  const netrpc = netrpcMethodName(what);
  if (netrpc !== undefined) {
    // No input is Go's nil `interface{}` (a Greet(args interface{}, …) takes just that).
    const json = parseJson(await oneInput(input, "null"), "input");
    return callNetRpc(target, netrpc, json, context, flags);
  }
  const files = await loadProtoFiles(flags); // before starting anything: a bad file fails fast
  const { plugin, close } = await openTarget(target, context);
  try {
    if (what === "list") return await list(plugin, files, input, context);
    const isProvider = plugin.manifest.providers.some((p) => p.name === what);
    const name = isProvider ? undefined : methodName(what);
    if (name === undefined) return await callProvider(plugin, what, input);
    const found = await findMethod(plugin, files, name.service, name.method, context);
    await invoke(plugin, found, input);
    return 0;
  } finally {
    await close();
  }
}

/** `package.Service/Method`, `/package.Service/Method` or `package.Service.Method`. */
function methodName(what: string): { service: string; method: string } | undefined {
  const path = what.replace(/^\//, "");
  const cut = path.includes("/") ? path.lastIndexOf("/") : path.lastIndexOf(".");
  if (cut <= 0 || cut === path.length - 1) return undefined;
  return { service: path.slice(0, cut), method: path.slice(cut + 1) };
}

async function callProvider(
  plugin: ManagedPlugin,
  name: string,
  input: string | undefined,
): Promise<number> {
  if (!plugin.manifest.providers.some((p) => p.name === name))
    throw new PluginError(
      "PROVIDER_UNKNOWN",
      `${plugin.id} has no provider ${JSON.stringify(name)} (providers: ${plugin.manifest.providers.map((p) => p.name).join(", ") || "none"}; for a method use package.Service/Method, to see them: plugwire call ${plugin.id} list)`,
    );
  const json = parseJson(await oneInput(input), "input");
  const response = await plugin
    .client(Provider)
    .execute({ name, inputJson: JSON.stringify(json) }, { timeoutMs: callTimeoutMs });
  printJson(response.outputJson === "" ? null : JSON.parse(response.outputJson));
  return 0;
}

interface Found {
  readonly service: DescService;
  readonly method: DescMethod;
  /** For `google.protobuf.Any` in JSON: the types the descriptors know. */
  readonly registry: FileRegistry | undefined;
}

/** What describes the plugin's services, in the order they are tried. */
async function describeServices(
  plugin: ManagedPlugin,
  files: FileRegistry | undefined,
  context: CliContext,
  wanted: string | undefined,
): Promise<{
  source: "proto" | "manifest" | "reflection";
  names: string[];
  registry: FileRegistry;
}> {
  if (files !== undefined) {
    const names = [...files].filter((d) => d.kind === "service").map((s) => s.typeName);
    return { source: "proto", names: names.sort(), registry: files };
  }
  using reflection = new ReflectionClient(plugin.connection!, {
    timeoutMs: context.startTimeoutMs,
  });
  let names: string[] | undefined;
  try {
    names = (await reflection.listServices()).sort();
  } catch (error) {
    const failure = PluginError.from(error);
    if (failure.code !== "UNIMPLEMENTED") throw failure.withPlugin(plugin.id);
  }
  if (names === undefined) {
    const set = plugin.manifest.descriptorSet;
    if (set === undefined)
      throw new PluginError(
        "SERVICE_UNKNOWN",
        "it serves no gRPC server reflection and publishes no descriptors: describe it with --proto FILE (and -I DIR) or --protoset FILE",
        { plugin: plugin.id },
      );
    return {
      source: "manifest",
      names: [...plugin.manifest.services].sort(),
      registry: createFileRegistry(fromBinary(FileDescriptorSetSchema, set)),
    };
  }
  const resolve = wanted === undefined ? names : names.filter((n) => n === wanted);
  return { source: "reflection", names, registry: await reflection.resolve(resolve) };
}

async function findMethod(
  plugin: ManagedPlugin,
  files: FileRegistry | undefined,
  serviceName: string,
  methodName: string,
  context: CliContext,
): Promise<Found> {
  let service: DescService | undefined;
  let registry: FileRegistry | undefined = files;
  if (files === undefined) service = findService(plugin.manifest, serviceName); // published
  if (service === undefined) {
    const described = await describeServices(plugin, files, context, serviceName);
    registry = described.registry;
    service = described.names.includes(serviceName)
      ? described.registry.getService(serviceName)
      : undefined;
    if (service === undefined)
      throw new PluginError(
        "SERVICE_UNKNOWN",
        `no service ${JSON.stringify(serviceName)} (${describedBy(described.source)}: ${described.names.join(", ") || "none"})`,
        { plugin: plugin.id },
      );
  }
  const method = service.methods.find((m) => m.name === methodName || m.localName === methodName);
  if (method === undefined)
    throw new PluginError(
      "SERVICE_UNKNOWN",
      `service ${service.typeName} has no method ${JSON.stringify(methodName)} (methods: ${service.methods.map((m) => m.name).join(", ")})`,
      { plugin: plugin.id },
    );
  return { service, method, registry };
}

function describedBy(source: "proto" | "manifest" | "reflection"): string {
  if (source === "proto") return "the --proto/--protoset files describe";
  if (source === "manifest") return "its published descriptors describe";
  return "it serves, by reflection";
}

async function invoke(plugin: ManagedPlugin, found: Found, input: string | undefined) {
  const { service, method, registry } = found;
  const fullName = `${service.typeName}/${method.name}`;
  const options = registry === undefined ? {} : { registry };
  const decode = (json: JsonValue, where: string) => {
    try {
      return fromJson(method.input, json, options);
    } catch (error) {
      throw new UsageError(
        `${where} does not fit ${method.input.typeName}: ${(error as Error).message}`,
      );
    }
  };
  const encode = (message: unknown) => toJson(method.output, message as never, options);
  const fn = (plugin.connection!.client(service) as unknown as Record<string, AnyMethod>)[
    method.localName
  ]!;
  const line = (message: unknown) => process.stdout.write(`${JSON.stringify(encode(message))}\n`);
  try {
    switch (method.methodKind) {
      case "unary":
        printJson(
          encode(
            await fn(decode(parseJson(await oneInput(input), "input"), "input"), {
              timeoutMs: callTimeoutMs,
            }),
          ),
        );
        return;
      case "server_streaming": {
        const request = decode(parseJson(await oneInput(input), "input"), "input");
        for await (const message of fn(request) as AsyncIterable<unknown>) line(message);
        return;
      }
      case "client_streaming":
      case "bidi_streaming": {
        // A bad input line ends the call and is reported as the failure, not what it caused.
        const abort = new AbortController();
        let inputError: unknown;
        const requests = async function* () {
          try {
            for await (const [json, where] of inputMessages(input)) yield decode(json, where);
          } catch (error) {
            inputError = error;
            abort.abort(error);
          }
        };
        try {
          if (method.methodKind === "client_streaming")
            printJson(
              encode(await fn(requests(), { signal: abort.signal, timeoutMs: callTimeoutMs })),
            );
          else
            for await (const message of fn(requests(), {
              signal: abort.signal,
            }) as AsyncIterable<unknown>)
              line(message);
        } catch (error) {
          throw inputError ?? error;
        }
        if (inputError !== undefined) throw inputError;
        return;
      }
    }
  } catch (error) {
    if (error instanceof UsageError) throw error;
    const failure = PluginError.from(error);
    throw new PluginError(failure.code, `${fullName}: ${failure.rawMessage}`, {
      plugin: plugin.id,
      cause: failure,
      grpcStatus: failure.grpcStatus,
    });
  }
}

/** `call <plugin> list [service]`: services and methods, like `grpcurl list`/`describe`. */
async function list(
  plugin: ManagedPlugin,
  files: FileRegistry | undefined,
  only: string | undefined,
  context: CliContext,
): Promise<number> {
  if (plugin.connection?.info.protocol === "netrpc")
    throw new PluginError(
      "SERVICE_UNKNOWN",
      "it speaks go-plugin's net/rpc protocol, which describes no methods: call NAME/Plugin.Method [json] (with --args-type GO_TYPE when the JSON's shape is not the argument's type)",
      { plugin: plugin.id },
    );
  const described = await describeServices(plugin, files, context, only);
  if (only !== undefined && !described.names.includes(only))
    throw new PluginError(
      "SERVICE_UNKNOWN",
      `no service ${JSON.stringify(only)} (${describedBy(described.source)}: ${described.names.join(", ") || "none"})`,
      { plugin: plugin.id },
    );
  const services = described.names
    .filter((name) => only === undefined || name === only)
    .map((name) => {
      const service = described.registry.getService(name);
      return {
        name,
        methods: (service?.methods ?? []).map((m) => ({
          name: m.name,
          kind: m.methodKind,
          input: m.input.typeName,
          output: m.output.typeName,
        })),
      };
    });
  if (context.json) {
    printJson({ plugin: plugin.id, source: described.source, services });
    return 0;
  }
  const lines: string[] = [];
  for (const service of services) {
    lines.push(service.name);
    for (const m of service.methods) {
      const inStream =
        m.kind === "client_streaming" || m.kind === "bidi_streaming" ? "stream " : "";
      const outStream =
        m.kind === "server_streaming" || m.kind === "bidi_streaming" ? "stream " : "";
      lines.push(`  ${m.name}(${inStream}${m.input}) returns (${outStream}${m.output})`);
    }
  }
  process.stdout.write(`${lines.join("\n")}\n`);
  return 0;
}

function parseJson(text: string, where: string): JsonValue {
  try {
    return JSON.parse(text === "" ? "{}" : text) as JsonValue;
  } catch (error) {
    throw new UsageError(`${where} is not JSON: ${(error as Error).message}`);
  }
}

/** The one input message: the argument, else all of stdin (`empty` on a terminal or when blank). */
async function oneInput(input: string | undefined, empty = "{}"): Promise<string> {
  if (input !== undefined) return input === "" ? empty : input;
  if (process.stdin.isTTY) return empty;
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString("utf8").trim();
  return text === "" ? empty : text;
}

/** Stream input: the argument as one message, else one JSON message per stdin line, as read. */
async function* inputMessages(input: string | undefined): AsyncGenerator<[JsonValue, string]> {
  if (input !== undefined) {
    yield [parseJson(input, "input"), "input"];
    return;
  }
  let n = 0;
  for await (const text of createInterface({ input: process.stdin, crlfDelay: Infinity })) {
    n++;
    if (text.trim() === "") continue;
    yield [parseJson(text, `stdin line ${n}`), `stdin line ${n}`];
  }
}

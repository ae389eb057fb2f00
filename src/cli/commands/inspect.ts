import type { CliContext } from "../context.ts";
import { printJson } from "../output.ts";
import { openTarget } from "../target.ts";

/** `plugwire inspect`: handshake, negotiated version, TLS, services, providers, health. */
export async function inspect(target: string, context: CliContext): Promise<number> {
  const { plugin, close } = await openTarget(target, context);
  try {
    const connection = plugin.connection!;
    const started = performance.now();
    let health = "SERVING";
    try {
      await connection.ping({ timeoutMs: 2000 });
    } catch (error) {
      health = `NOT SERVING (${(error as Error).message})`;
    }
    const pingMs = Math.round((performance.now() - started) * 10) / 10;
    const m = plugin.manifest;
    const info = {
      id: plugin.id,
      name: m.name,
      version: m.version,
      author: m.author,
      description: m.description,
      pid: connection.info.pid,
      protocolVersion: connection.info.protocolVersion,
      protocol: connection.info.protocol,
      transport: connection.info.transport,
      address: connection.info.address,
      tls: connection.info.tls,
      health,
      pingMs,
      manifestOrigin: m.origin,
      services: m.services,
      providers: m.providers.map((p) => ({
        name: p.name,
        description: p.description,
        inputSchema: p.inputSchema,
      })),
    };
    if (context.json) {
      printJson(info);
      return 0;
    }
    const lines = [
      `plugin      ${info.id} ${info.version}${info.author === "" ? "" : ` by ${info.author}`}`,
      `process     pid ${info.pid ?? "-"}`,
      `handshake   protocol version ${info.protocolVersion}, ${info.transport} ${info.address}`,
      `protocol    ${info.protocol === "netrpc" ? "go-plugin's net/rpc (netrpc): call NAME/Plugin.Method" : "gRPC (grpc)"}`,
      `tls         ${info.tls ? "AutoMTLS (mutual)" : "none"}`,
      `health      ${health} (${pingMs} ms)`,
      `manifest    from ${info.manifestOrigin}`,
      `services    ${info.services.join(", ") || "(not published)"}`,
      ...info.providers.map(
        (p, i) =>
          `${i === 0 ? "providers   " : "            "}${p.name}${p.description === "" ? "" : ` — ${p.description}`}` +
          (p.inputSchema === undefined ? "" : `  input ${JSON.stringify(p.inputSchema)}`),
      ),
    ];
    process.stdout.write(`${lines.join("\n")}\n`);
    return 0;
  } finally {
    await close();
  }
}

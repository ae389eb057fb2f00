import { createHash } from "node:crypto";
import { createWriteStream } from "node:fs";
import { readFile } from "node:fs/promises";
import type { IncomingMessage } from "node:http";
import type { Agent } from "node:https";
import { PluginError } from "../errors/plugin-error.ts";

export interface HttpsGetOptions {
  /**
   * A PEM file of CA certificates trusted besides the system's (a company or test CA). Node reads
   * NODE_EXTRA_CA_CERTS itself at start; this covers one set in `env` after the process started.
   */
  caFile?: string | undefined;
  signal?: AbortSignal | undefined;
  /** Named in errors. */
  plugin?: string | undefined;
  /** Bigger answers are refused. Default 1 GiB. */
  maxBytes?: number | undefined;
}

/** A finished download: the status, and for 200 the bytes' count and SHA-256. */
export interface Download {
  readonly status: number;
  readonly bytes: number;
  readonly sha256: string;
}

const maxRedirects = 5;

/** GETs a small HTTPS resource into memory: undefined for 404/410, else the body. */
export async function httpsText(
  url: string,
  options: HttpsGetOptions,
): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  const got = await httpsGet(url, options, (chunk) => chunks.push(chunk));
  return got.status === 200 ? Buffer.concat(chunks) : undefined;
}

/** GETs an HTTPS resource into `file` (created, never appended), hashing it as it arrives. */
export async function httpsDownload(
  url: string,
  file: string,
  options: HttpsGetOptions,
): Promise<Download> {
  const out = createWriteStream(file, { flags: "wx" });
  try {
    return await httpsGet(url, options, (chunk) => out.write(chunk));
  } finally {
    await new Promise<void>((resolve) => out.end(resolve));
  }
}

/**
 * Follows HTTPS redirects (never to plain HTTP), streams a 200 body to `sink`, and turns every
 * network, TLS or server failure into SOURCE_UNAVAILABLE naming the URL. 404 and 410 are returned.
 */
async function httpsGet(
  url: string,
  options: HttpsGetOptions,
  sink: (chunk: Buffer) => void,
): Promise<Download> {
  const agent = await agentFor(options.caFile);
  const maxBytes = options.maxBytes ?? 1024 ** 3;
  let at = url;
  for (let hop = 0; hop <= maxRedirects; hop++) {
    if (!at.startsWith("https://"))
      throw unavailable(url, `it redirects to ${at}, which is not HTTPS`, options);
    const response = await request(at, agent, options).catch((error: Error) => {
      throw unavailable(url, describe(error), options, error);
    });
    const status = response.statusCode ?? 0;
    const location = response.headers.location;
    if (status >= 300 && status < 400 && location !== undefined) {
      response.resume();
      at = new URL(location, at).toString();
      continue;
    }
    if (status === 404 || status === 410) {
      response.resume();
      return { status, bytes: 0, sha256: "" };
    }
    if (status !== 200) {
      response.resume();
      throw unavailable(url, `the server answered ${status}`, options);
    }
    const hash = createHash("sha256");
    let bytes = 0;
    try {
      for await (const chunk of response as AsyncIterable<Buffer>) {
        bytes += chunk.length;
        if (bytes > maxBytes)
          throw new PluginError("FETCH_FAILED", `${url} is over ${maxBytes} bytes; refused`, {
            plugin: options.plugin,
            details: { url },
          });
        hash.update(chunk);
        sink(chunk);
      }
    } catch (error) {
      if (error instanceof PluginError) throw error;
      throw unavailable(url, `the download broke off: ${describe(error as Error)}`, options, error);
    }
    return { status, bytes, sha256: hash.digest("hex") };
  }
  throw unavailable(url, `more than ${maxRedirects} redirects`, options);
}

function request(url: string, agent: Agent | undefined, options: HttpsGetOptions) {
  return new Promise<IncomingMessage>((resolve, reject) => {
    // node:https (and node:tls under it) load on first use: the manager entry must not load them.
    const { get } = process.getBuiltinModule("node:https");
    const req = get(url, { agent, signal: options.signal, timeout: 30_000 }, resolve);
    req.on("timeout", () => req.destroy(new Error("no answer within 30 s")));
    req.on("error", reject);
  });
}

/** An agent trusting the system's CAs and the file's, when a file is given. */
async function agentFor(caFile: string | undefined): Promise<Agent | undefined> {
  if (caFile === undefined) return undefined;
  const extra = await readFile(caFile, "utf8");
  const { Agent } = process.getBuiltinModule("node:https");
  const { rootCertificates } = process.getBuiltinModule("node:tls");
  return new Agent({ ca: [...rootCertificates, extra], keepAlive: false });
}

function describe(error: Error): string {
  const code = (error as NodeJS.ErrnoException).code;
  if (code !== undefined && /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_TLS/.test(code))
    return `its TLS certificate is not trusted (${code}); if it is signed by your own CA, set caFile or NODE_EXTRA_CA_CERTS to that CA's PEM file`;
  return code === undefined ? error.message : `${code}: ${error.message}`;
}

function unavailable(
  url: string,
  why: string,
  options: HttpsGetOptions,
  cause?: unknown,
): PluginError {
  return new PluginError(
    "SOURCE_UNAVAILABLE",
    `cannot download ${url}: ${why}. Check the URL and the network, then try again`,
    { plugin: options.plugin, cause, details: { url } },
  );
}

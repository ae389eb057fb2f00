// An HTTPS release server on loopback, as releases are published for Terraform providers and most
// Go binaries: a folder of `<name>_<version>_<os>_<arch>.zip` files with `SHA256SUMS` and
// `SHA256SUMS.sig` beside them, served by node:https with a certificate from a test CA made
// for this run (openssl), so a client must be told to trust that CA.
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { createServer } from "node:https";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join, normalize, relative, sep } from "node:path";
import { zipSync } from "fflate";
import { formatSha256Sums } from "../../../src/trust/sha256sums.ts";

export interface ArchiveServer {
  /** `https://127.0.0.1:<port>` */
  readonly url: string;
  /** The served folder: `<url>/<path>` is `<root>/<path>`. */
  readonly root: string;
  /** The test CA's certificate (PEM file): pass as `caFile` or NODE_EXTRA_CA_CERTS. */
  readonly caFile: string;
  /** Requests served, by path, to see what a client fetched. */
  readonly requests: string[];
  /** Stops serving (the port then refuses connections); the files stay until dispose. */
  stop(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

/** Starts the server on 127.0.0.1 with a fresh CA and a certificate for 127.0.0.1 and localhost. */
export async function startArchiveServer(): Promise<ArchiveServer> {
  const dir = mkdtempSync(join(tmpdir(), "pw-archives-"));
  const root = join(dir, "www");
  mkdirSync(root);
  const pki = makeCertificates(join(dir, "pki"));
  const requests: string[] = [];
  const server = createServer({ cert: pki.cert, key: pki.key }, (request, response) => {
    const path = normalize(decodeURIComponent(new URL(request.url ?? "/", "https://x").pathname));
    requests.push(path);
    const file = join(root, path);
    if (relative(root, file).split(sep)[0] === ".." || !isFile(file)) {
      response.writeHead(404, { "content-type": "text/plain" });
      response.end("not found\n");
      return;
    }
    const body = readFileSync(file);
    response.writeHead(200, {
      "content-type": "application/octet-stream",
      "content-length": body.length,
    });
    response.end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  let closed: Promise<void> | undefined;
  const stop = () => {
    closed ??= new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
    return closed;
  };
  return {
    url,
    root,
    caFile: pki.caFile,
    requests,
    stop,
    async [Symbol.asyncDispose]() {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A CA, and a server certificate it signed for 127.0.0.1 and localhost (EC P-256, 1 day). */
function makeCertificates(dir: string): { caFile: string; cert: Buffer; key: Buffer } {
  mkdirSync(dir);
  const at = (name: string) => join(dir, name);
  const openssl = (...args: string[]) => execFileSync("openssl", args, { stdio: "pipe" });
  const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
  openssl(
    "req",
    "-x509",
    ...ec,
    "-keyout",
    at("ca.key"),
    "-out",
    at("ca.pem"),
    "-days",
    "1",
    "-subj",
    "/CN=plugwire test CA",
    "-addext",
    "basicConstraints=critical,CA:TRUE",
    "-addext",
    "keyUsage=critical,keyCertSign,cRLSign",
  );
  openssl(
    "req",
    ...ec,
    "-keyout",
    at("server.key"),
    "-out",
    at("server.csr"),
    "-subj",
    "/CN=127.0.0.1",
  );
  writeFileSync(
    at("server.ext"),
    "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n",
  );
  openssl(
    "x509",
    "-req",
    "-in",
    at("server.csr"),
    "-CA",
    at("ca.pem"),
    "-CAkey",
    at("ca.key"),
    "-CAcreateserial",
    "-out",
    at("server.pem"),
    "-days",
    "1",
    "-extfile",
    at("server.ext"),
  );
  return {
    caFile: at("ca.pem"),
    cert: readFileSync(at("server.pem")),
    key: readFileSync(at("server.key")),
  };
}

/**
 * Writes a release into `<root>/<folder>`: a zip per platform holding `files` (the executable
 * first, made executable), and a `SHA256SUMS` listing the zips. Returns the zips' paths.
 */
export function writeRelease(
  server: ArchiveServer,
  folder: string,
  zips: Record<string, Record<string, Uint8Array | string>>,
): string[] {
  const at = join(server.root, folder);
  mkdirSync(at, { recursive: true });
  const sums: Array<[string, string]> = [];
  const written: string[] = [];
  for (const [name, files] of Object.entries(zips)) {
    const entries: Record<string, [Uint8Array, { os: number; attrs: number }]> = {};
    for (const [file, content] of Object.entries(files)) {
      const bytes = typeof content === "string" ? new TextEncoder().encode(content) : content;
      // Unix mode in the upper 16 bits of the external attributes (version made by: unix, 3).
      const mode = file === Object.keys(files)[0] ? 0o100755 : 0o100644;
      entries[file] = [bytes, { os: 3, attrs: mode << 16 }];
    }
    const zip = zipSync(entries, { level: 6, mtime: "2026-01-01" });
    writeFileSync(join(at, name), zip);
    sums.push([name, createHash("sha256").update(zip).digest("hex")]);
    written.push(join(at, name));
  }
  writeFileSync(join(at, "SHA256SUMS"), formatSha256Sums(sums));
  return written;
}

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

import { X509Certificate } from "node:crypto";
import type { TLSSocket, TlsOptions, Server as TlsServer } from "node:tls";
import { PluginError } from "../errors/plugin-error.ts";
import type { SecureServerFactory } from "../rpc/h2/listener.ts";
import type { TlsIdentity } from "./auto-mtls.ts";

/** A server's side of AutoMTLS: our identity and the one certificate its clients must present. */
export interface ServerTls {
  readonly identity: TlsIdentity;
  /** The one certificate trusted for clients (AutoMTLS: the peer's). */
  readonly peerCertPem: string;
}

/**
 * go-plugin's AutoMTLS, server side: our certificate, TLS 1.2 or later, and a client that must
 * present exactly the peer's certificate (AutoMTLS: the one the host sent in PLUGIN_CLIENT_CERT,
 * or the plugin's from the handshake line for a host's brokered server). Only connections that do
 * reach `onSecure`; any other is destroyed as soon as its handshake ends, before a byte of it is
 * read, and reported as 'tlsClientError' (TLS_FAILED), as a failed handshake is.
 *
 * Why the check is ours and not OpenSSL's (docs/performance.md §25): a secure context given a
 * CA makes Node build its whole root store first (≈ 140 bundled certificates and those of
 * NODE_EXTRA_CA_CERTS, 15–30 ms of CPU here) though the context then trusts only that CA. With
 * `ca: []` the store stays empty and nothing is built, so OpenSSL cannot verify the chain and the
 * server takes the client's certificate unverified (`rejectUnauthorized: false`): TLS still
 * proves the client holds its key (CertificateVerify), and the certificate is then compared,
 * byte for byte, with the one expected. That is stricter than go-plugin's check (any certificate
 * the host's signs): a go-plugin host presents the very certificate it sent.
 */
export function createAutoMtlsServer(
  tls: ServerTls,
  options: TlsOptions,
  onSecure: (socket: TLSSocket) => void,
): TlsServer {
  const expected = new X509Certificate(tls.peerCertPem).raw;
  const server = process.getBuiltinModule("node:tls").createServer(
    {
      key: tls.identity.keyPem,
      cert: tls.identity.certPem,
      ca: [],
      requestCert: true,
      rejectUnauthorized: false,
      minVersion: "TLSv1.2",
      ...options,
    },
    (socket: TLSSocket) => {
      if (presentsCertificate(socket, expected)) {
        onSecure(socket);
        return;
      }
      socket.destroy();
      server.emit(
        "tlsClientError",
        new PluginError(
          "TLS_FAILED",
          "a TLS client presented no certificate or not the peer's (AutoMTLS trusts exactly the certificate the peer announced): connection refused",
        ),
        socket,
      );
    },
  );
  return server;
}

/** A `SecureServerFactory` for AutoMTLS with `tls` (see `createAutoMtlsServer`). */
export function autoMtlsServer(tls: ServerTls): SecureServerFactory {
  return (options, onSecure) => createAutoMtlsServer(tls, options, onSecure);
}

/** Whether the client of `socket` presented exactly the certificate whose DER is `expected`. */
function presentsCertificate(socket: TLSSocket, expected: Buffer): boolean {
  const presented = socket.getPeerX509Certificate();
  return presented?.raw.equals(expected) === true;
}

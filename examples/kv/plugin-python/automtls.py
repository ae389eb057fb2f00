"""go-plugin AutoMTLS, plugin side.

The host puts its certificate (PEM) into ``PLUGIN_CLIENT_CERT``. The plugin generates its own
certificate with go-plugin's recipe, serves TLS that requires and verifies a client certificate
against exactly the host's certificate, and returns its own certificate in handshake field 6 as
unpadded standard base64 of the DER.

Why TLS is not done by grpcio itself (``grpc.ssl_server_credentials``): grpcio's wheels use
BoringSSL, whose server does not accept the ``ecdsa_secp521r1_sha512`` signature algorithm, and
gRPC offers no way to configure that (grpc/grpc#41089). A go-plugin host's certificate is always
ECDSA P-521, so under TLS 1.3 the host finds no acceptable algorithm for its client certificate,
sends none, and the handshake fails (``PEER_DID_NOT_RETURN_A_CERTIFICATE``). So TLS is terminated
here with Python's ``ssl`` module (OpenSSL), in :class:`TLSFront`, which forwards the decrypted
HTTP/2 bytes to the gRPC server listening on a unix socket in a private (0700) directory.
"""

import asyncio
import base64
import os
import secrets
import ssl
import tempfile
import threading
from datetime import datetime, timedelta, timezone

import hclog
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID


def generate_cert():
    """Returns ``(key_pem, cert_pem, cert_der)`` for a fresh certificate made like go-plugin's:
    ECDSA P-521, self-signed with SHA-512, subject = issuer = O=HashiCorp, CN=localhost,
    SAN DNS:localhost, CA:TRUE, key usages digitalSignature/keyEncipherment/keyAgreement/
    keyCertSign, EKU clientAuth+serverAuth, valid from now-30s for 262980 hours (~30 years)."""
    key = ec.generate_private_key(ec.SECP521R1())
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "HashiCorp"),
            x509.NameAttribute(NameOID.COMMON_NAME, "localhost"),
        ]
    )
    now = datetime.now(timezone.utc)
    # go-plugin draws the serial from [0, 2^128); X.509 wants it positive, so never 0.
    serial = secrets.randbelow(2**128 - 1) + 1
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(serial)
        .not_valid_before(now - timedelta(seconds=30))
        .not_valid_after(now + timedelta(hours=262980))
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=True,
                data_encipherment=False,
                key_agreement=True,
                key_cert_sign=True,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH, ExtendedKeyUsageOID.SERVER_AUTH]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        # Go adds a subject key identifier (SHA-1 of the public key) to CA certificates.
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), critical=False)
        .sign(key, hashes.SHA512())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,  # SEC1 "EC PRIVATE KEY", as Go writes it
        serialization.NoEncryption(),
    )
    return key_pem, cert.public_bytes(serialization.Encoding.PEM), cert.public_bytes(serialization.Encoding.DER)


def handshake_field(cert_der):
    """Handshake field 6: standard base64 alphabet, no ``=`` padding (Go's RawStdEncoding)."""
    return base64.b64encode(cert_der).decode("ascii").rstrip("=")


def parse_host_cert(pem_text):
    """Validates ``PLUGIN_CLIENT_CERT``; returns it as PEM text. Raises ValueError."""
    certs = x509.load_pem_x509_certificates(pem_text.encode("utf-8"))  # ValueError if no valid block
    if not certs:
        raise ValueError("no certificate in PEM")
    return pem_text


def _load_cert_chain(ctx, key_pem, cert_pem):
    # SSLContext only loads the key from a file: use an anonymous memory file where there is one
    # (Linux), else a file in a fresh 0700 directory that is removed at once.
    if hasattr(os, "memfd_create"):
        fd = os.memfd_create("kv-plugin-tls", 0)
        try:
            os.write(fd, cert_pem + key_pem)
            ctx.load_cert_chain(f"/proc/self/fd/{fd}")
            return
        except OSError:
            pass  # no /proc: fall through
        finally:
            os.close(fd)
    with tempfile.TemporaryDirectory(prefix="kv-plugin-tls-") as d:
        path = os.path.join(d, "pair.pem")
        with open(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600), "wb") as f:
            f.write(cert_pem + key_pem)
        ctx.load_cert_chain(path)


def server_context(host_cert_pem):
    """Returns ``(ssl.SSLContext, handshake_field_6)`` for serving AutoMTLS to the host whose PEM
    certificate is ``host_cert_pem`` (the value of ``PLUGIN_CLIENT_CERT``): TLS 1.2+, ALPN h2,
    our fresh certificate, and a client certificate required and verified against exactly the
    host's certificate (go-plugin's RequireAndVerifyClientCert with a one-certificate pool)."""
    root = parse_host_cert(host_cert_pem)
    key_pem, cert_pem, cert_der = generate_cert()
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.verify_mode = ssl.CERT_REQUIRED
    # Trust exactly the host's certificate; Python 3.13+ turns on OpenSSL's strict X.509 checks
    # by default, which some hosts' certificates may not pass, and Go does not apply them either.
    ctx.verify_flags &= ~getattr(ssl, "VERIFY_X509_STRICT", 0)
    ctx.load_verify_locations(cadata=root)
    ctx.set_alpn_protocols(["h2"])
    _load_cert_chain(ctx, key_pem, cert_pem)
    return ctx, handshake_field(cert_der)


class TLSFront:
    """Accepts TLS connections on the public address and forwards each one, decrypted, to the
    gRPC server's private unix socket. Runs an asyncio loop in a daemon thread."""

    def __init__(self, context, backend_path):
        self._context = context
        self._backend = backend_path
        self._loop = asyncio.new_event_loop()
        self._server = None
        self._thread = threading.Thread(target=self._loop.run_forever, name="tls-front", daemon=True)
        self._thread.start()

    def listen_unix(self, path):
        self._call(self._listen(path=path))
        return path

    def listen_tcp(self, host="127.0.0.1"):
        """Listens on an ephemeral port of ``host``; returns the port."""
        return self._call(self._listen(host=host))

    def stop(self):
        if self._loop.is_closed():
            return
        try:
            self._call(self._close(), timeout=1)
        except Exception:  # noqa: BLE001 - best effort at exit
            pass
        self._loop.call_soon_threadsafe(self._loop.stop)

    def _call(self, coro, timeout=10):
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout)

    async def _listen(self, path=None, host=None):
        kwargs = {"ssl": self._context, "ssl_handshake_timeout": 10}
        if path is not None:
            self._server = await asyncio.start_unix_server(self._handle, path=path, **kwargs)
            return path
        self._server = await asyncio.start_server(self._handle, host=host, port=0, **kwargs)
        return self._server.sockets[0].getsockname()[1]

    async def _close(self):
        if self._server is not None:
            self._server.close()
        for task in asyncio.all_tasks():
            if task is not asyncio.current_task():
                task.cancel()

    async def _handle(self, reader, writer):
        # Called once the TLS handshake (client certificate verified) has completed.
        try:
            b_reader, b_writer = await asyncio.open_unix_connection(self._backend)
        except OSError as e:
            hclog.error("tls front: cannot reach grpc server", error=e)
            writer.close()
            return

        async def pump(src, dst):
            try:
                while True:
                    data = await src.read(65536)
                    if not data:
                        break
                    dst.write(data)
                    await dst.drain()
            except (OSError, ssl.SSLError, asyncio.IncompleteReadError):
                pass

        tasks = [asyncio.ensure_future(pump(reader, b_writer)), asyncio.ensure_future(pump(b_reader, writer))]
        try:
            await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for t in tasks:
                t.cancel()
            for w in (writer, b_writer):
                try:
                    w.close()
                except Exception:  # noqa: BLE001
                    pass

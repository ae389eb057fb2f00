#!/usr/bin/env python3
"""go-plugin's key/value example plugin, in Python (grpcio), speaking go-plugin's gRPC protocol.

Improves on go-plugin's own examples/grpc/plugin-python: checks the magic cookie, negotiates the
app protocol version, listens on a fresh unix socket (or TCP on request), supports AutoMTLS (TLS
done by Python's ssl module in front of grpcio, see automtls.py), serves go-plugin's controller,
stdio and broker services next to health, logs hclog JSON, ignores SIGINT, and exits on Shutdown,
SIGTERM, or when its parent dies or the host closes its stdout pipe.

Environment (set by the host):
  BASIC_PLUGIN=hello         magic cookie of go-plugin's KV example (required)
  PLUGIN_PROTOCOL_VERSIONS   app protocol versions the host speaks; this plugin speaks 1 only
  PLUGIN_CLIENT_CERT         host certificate (PEM): turns on AutoMTLS
  PLUGIN_UNIX_SOCKET_DIR     directory for the unix socket (default: the temp dir)
  PLUGIN_UNIX_SOCKET_GROUP   group (name or gid) given to the socket, which is then made 0660
  PLUGIN_MULTIPLEX_GRPC      when non-empty, answered with "|false" (no multiplexing)
  PLUGWIRE_NETWORK=tcp       listen on 127.0.0.1:<ephemeral port> instead of a unix socket
"""

import os
import sys

COOKIE_KEY = "BASIC_PLUGIN"
COOKIE_VALUE = "hello"
APP_VERSIONS = (1,)  # app protocol versions this plugin speaks
CORE_VERSION = 1

COOKIE_MESSAGE = (
    "This binary is a plugin. These are not meant to be executed directly.\n"
    "Please execute the program that consumes these plugins, which will\n"
    "load any plugins automatically\n"
)

# Checked before anything else (and before importing grpc), exactly like go-plugin's Serve().
if os.environ.get(COOKIE_KEY) != COOKIE_VALUE:
    sys.stderr.write(COOKIE_MESSAGE)
    sys.stderr.flush()
    sys.exit(1)

# The first stdout line is the handshake, and a go-plugin host discards stdout after it. Send any
# stray print() to stderr (the host's log) for the whole life of the process; the handshake itself
# is written straight to file descriptor 1.
sys.stdout = sys.stderr

import re  # noqa: E402
import secrets  # noqa: E402
import select  # noqa: E402
import signal  # noqa: E402
import stat  # noqa: E402
import tempfile  # noqa: E402
import threading  # noqa: E402
from concurrent import futures  # noqa: E402

HERE = os.path.dirname(os.path.realpath(__file__))
sys.path.insert(0, os.path.join(HERE, "gen"))
sys.path.insert(0, HERE)

import hclog  # noqa: E402

hclog.set_module("kv-python")

# --- signals ---------------------------------------------------------------------------------------

_stop = threading.Event()  # set once: Shutdown RPC, SIGTERM or parent gone
_stop_reason = []
_interrupts = 0


def request_stop(reason):
    if not _stop.is_set():
        _stop_reason.append(reason)
        _stop.set()


def _on_sigint(signum, frame):
    # Ctrl-C reaches the whole foreground process group; the host decides when plugins stop.
    global _interrupts
    _interrupts += 1
    hclog.trace("plugin received interrupt signal, ignoring", count=_interrupts)


def _on_sigterm(signum, frame):
    request_stop("SIGTERM")


signal.signal(signal.SIGINT, _on_sigint)
signal.signal(signal.SIGTERM, _on_sigterm)

import grpc  # noqa: E402
from grpc_health.v1 import health, health_pb2, health_pb2_grpc  # noqa: E402

import grpc_broker_pb2_grpc  # noqa: E402
import grpc_controller_pb2  # noqa: E402
import grpc_controller_pb2_grpc  # noqa: E402
import grpc_stdio_pb2_grpc  # noqa: E402
import kv_pb2  # noqa: E402
import kv_pb2_grpc  # noqa: E402

# --- services --------------------------------------------------------------------------------------

TRAILER = b"\n\nWritten from plugin-python"
_POLL = 0.2  # seconds; how often long-lived streams look at cancellation / shutdown


def _kv_filename(key, context):
    # Same file names as go-plugin's example plugins ("kv_" + key in the working directory), but
    # a key must not reach outside that directory.
    if "\0" in key or os.sep in key or (os.altsep and os.altsep in key):
        context.abort(grpc.StatusCode.INVALID_ARGUMENT, f"invalid key {key!r}: contains a path separator")
    return "kv_" + key


class KVServicer(kv_pb2_grpc.KVServicer):
    def Get(self, request, context):
        filename = _kv_filename(request.key, context)
        hclog.info("get", key=request.key)
        try:
            with open(filename, "rb") as f:
                return kv_pb2.GetResponse(value=f.read())
        except FileNotFoundError:
            context.abort(grpc.StatusCode.NOT_FOUND, f"open {filename}: no such file or directory")
        except OSError as e:
            context.abort(grpc.StatusCode.UNKNOWN, f"open {filename}: {e.strerror or e}")

    def Put(self, request, context):
        filename = _kv_filename(request.key, context)
        hclog.info("put", key=request.key, bytes=len(request.value))
        try:
            with open(filename, "wb") as f:
                f.write(request.value + TRAILER)
        except OSError as e:
            context.abort(grpc.StatusCode.UNKNOWN, f"open {filename}: {e.strerror or e}")
        return kv_pb2.Empty()


class ControllerServicer(grpc_controller_pb2_grpc.GRPCControllerServicer):
    def Shutdown(self, request, context):
        # Answer first (unlike a Go plugin); the main thread then stops the server and exits.
        hclog.debug("shutdown requested by host")
        request_stop("Shutdown")
        return grpc_controller_pb2.Empty()


class StdioServicer(grpc_stdio_pb2_grpc.GRPCStdioServicer):
    def StreamStdio(self, request, context):
        # This plugin has no stdout/stderr to forward: keep the stream open, send nothing.
        hclog.trace("stdio stream opened")
        while context.is_active() and not _stop.wait(_POLL):
            pass
        return
        yield  # a generator: server streaming


class BrokerServicer(grpc_broker_pb2_grpc.GRPCBrokerServicer):
    def StartStream(self, request_iterator, context):
        # This plugin brokers no connections; accept the host's stream and read it until it ends,
        # so a host that opens it is not refused.
        hclog.trace("broker stream opened")
        ended = threading.Event()

        def drain():
            try:
                for info in request_iterator:
                    hclog.debug("broker: ignoring connection info", service_id=info.service_id)
            except Exception:  # cancelled or server stopping: the stream is over either way
                pass
            finally:
                ended.set()

        threading.Thread(target=drain, name="broker-drain", daemon=True).start()
        while context.is_active() and not ended.is_set() and not _stop.wait(_POLL):
            pass
        return
        yield  # a generator: bidirectional streaming


# --- start-up helpers ------------------------------------------------------------------------------


def negotiate_version():
    """Highest own version the host offers; otherwise the lowest own version (the host then
    refuses it with a clear error), as go-plugin's Serve() does."""
    raw = os.environ.get("PLUGIN_PROTOCOL_VERSIONS", "")
    offered = set()
    for part in raw.split(",") if raw else []:
        if re.fullmatch(r"[+-]?[0-9]+", part):
            offered.add(int(part))
        else:
            hclog.warn("server sent invalid plugin version", version=part)
    for v in sorted(APP_VERSIONS, reverse=True):
        if v in offered:
            return v
    if raw:
        hclog.warn("host offers no app protocol version this plugin speaks", host_versions=raw, plugin_versions="1")
    return min(APP_VERSIONS)


def _socket_path_limit():
    return 104 if sys.platform == "darwin" or "bsd" in sys.platform else 108  # sun_path incl. NUL


def new_socket_path():
    """``<dir>/plugin<random digits>``, reserved like Go's os.CreateTemp and then freed for bind."""
    directory = os.path.abspath(os.environ.get("PLUGIN_UNIX_SOCKET_DIR") or tempfile.gettempdir())
    for _ in range(100):
        path = os.path.join(directory, f"plugin{secrets.randbelow(10**10)}")
        if len(os.fsencode(path)) >= _socket_path_limit():
            raise OSError(f"unix socket path too long ({len(os.fsencode(path))} bytes): {path}")
        try:
            fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
        except FileExistsError:
            continue
        os.close(fd)
        os.remove(path)
        return path
    raise OSError(f"could not find a free socket name in {directory}")


def apply_socket_group(path):
    group = os.environ.get("PLUGIN_UNIX_SOCKET_GROUP")
    if not group:
        return
    if group.isdigit():
        gid = int(group)
    else:
        import grp

        try:
            gid = grp.getgrnam(group).gr_gid
        except KeyError:
            raise OSError(f"PLUGIN_UNIX_SOCKET_GROUP: unknown group {group!r}") from None
    os.chown(path, -1, gid)
    os.chmod(path, 0o660)


def remove_quietly(path):
    if path:
        try:
            os.remove(path)
        except FileNotFoundError:
            pass
        except OSError as e:
            hclog.warn("could not remove socket", path=path, error=e)


def stdout_reader_watch():
    """When stdout is a pipe, returns a function telling whether its read end has been closed.

    The host reads our stdout until we exit, so a closed read end means the host is gone. This
    catches what the parent-PID check cannot: a host started us through ``sh -c`` and the shell
    did not exec, so our parent is the (still living) shell while the host has died.
    """
    try:
        if not stat.S_ISFIFO(os.fstat(1).st_mode):
            return None
        poller = select.poll()
        poller.register(1, 0)  # no events asked for: POLLERR/POLLHUP are reported regardless
    except (OSError, AttributeError):  # AttributeError: no poll() on this platform
        return None
    return lambda: any(ev & (select.POLLERR | select.POLLHUP) for _, ev in poller.poll(0))


def cleanup(server, front, socket_path, private_dir, grace=0):
    server.stop(grace).wait(grace + 0.5)
    if front is not None:
        front.stop()
    remove_quietly(socket_path)
    if private_dir:
        remove_quietly(os.path.join(private_dir, "grpc.sock"))
        try:
            os.rmdir(private_dir)
        except OSError:
            pass


def fail(message, **fields):
    hclog.error(message, **fields)
    sys.stderr.flush()
    os._exit(1)


# --- main ------------------------------------------------------------------------------------------


def main():
    version = negotiate_version()

    tls_context, cert_field = None, ""
    host_cert = os.environ.get("PLUGIN_CLIENT_CERT", "")
    if host_cert:
        import automtls

        hclog.debug("configuring server automatic mTLS")
        try:
            tls_context, cert_field = automtls.server_context(host_cert)
        except (ValueError, OSError) as e:
            fail("plugin init error", error=f"PLUGIN_CLIENT_CERT: {e}")

    health_servicer = health.HealthServicer()
    health_servicer.set("plugin", health_pb2.HealthCheckResponse.SERVING)
    health_servicer.set("", health_pb2.HealthCheckResponse.SERVING)

    server = grpc.server(
        futures.ThreadPoolExecutor(max_workers=16, thread_name_prefix="grpc"),
        options=[("grpc.so_reuseport", 0)],
    )
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    grpc_broker_pb2_grpc.add_GRPCBrokerServicer_to_server(BrokerServicer(), server)
    grpc_controller_pb2_grpc.add_GRPCControllerServicer_to_server(ControllerServicer(), server)
    grpc_stdio_pb2_grpc.add_GRPCStdioServicer_to_server(StdioServicer(), server)
    kv_pb2_grpc.add_KVServicer_to_server(KVServicer(), server)

    socket_path = None  # public unix socket, removed on exit
    private_dir = None  # AutoMTLS: 0700 directory holding the gRPC server's own socket
    front = None
    tcp = os.environ.get("PLUGWIRE_NETWORK") == "tcp"
    try:
        if tls_context is None:
            if tcp:
                port = server.add_insecure_port("127.0.0.1:0")
                network, address = "tcp", f"127.0.0.1:{port}"
            else:
                socket_path = new_socket_path()
                server.add_insecure_port("unix:" + socket_path)
                network, address = "unix", socket_path
            server.start()
        else:
            # TLS is terminated by Python's ssl module in front of the gRPC server (see automtls.py).
            private_dir = tempfile.mkdtemp(prefix="kv-plugin-")
            backend = os.path.join(private_dir, "grpc.sock")
            if len(os.fsencode(backend)) >= _socket_path_limit():
                raise OSError(f"unix socket path too long: {backend}")
            server.add_insecure_port("unix:" + backend)
            server.start()
            front = automtls.TLSFront(tls_context, backend)
            if tcp:
                network, address = "tcp", f"127.0.0.1:{front.listen_tcp()}"
            else:
                socket_path = new_socket_path()
                network, address = "unix", front.listen_unix(socket_path)
        if socket_path:
            apply_socket_group(socket_path)
    except (OSError, RuntimeError) as e:
        cleanup(server, front, socket_path, private_dir)
        fail("plugin init error", error=e)

    hclog.debug("plugin address", network=network, address=address)
    line = f"{CORE_VERSION}|{version}|{network}|{address}|grpc|{cert_field}"
    if os.environ.get("PLUGIN_MULTIPLEX_GRPC"):
        line += "|false"  # this plugin does not multiplex
    try:
        os.write(1, (line + "\n").encode())  # one write, unbuffered
    except OSError as e:
        cleanup(server, front, socket_path, private_dir)
        fail("could not write handshake", error=e)
    hclog.info("plugin started", network=network, address=address, protocol_version=version, mtls=bool(front))

    parent = os.getppid()
    stdout_pipe = stdout_reader_watch()
    while not _stop.wait(0.5):
        if os.getppid() != parent:
            hclog.warn("parent process is gone, exiting", parent_pid=parent)
            request_stop("parent exited")
        elif stdout_pipe and stdout_pipe():
            hclog.warn("host closed our stdout pipe (host gone?), exiting")
            request_stop("stdout closed")

    reason = _stop_reason[0] if _stop_reason else "unknown"
    hclog.debug("stopping server", reason=reason)
    health_servicer.enter_graceful_shutdown()
    # After Shutdown, give the reply (and anything else in flight) up to 1 s; otherwise stop now.
    cleanup(server, front, socket_path, private_dir, grace=1.0 if reason == "Shutdown" else 0)
    hclog.info("plugin exited", reason=reason)
    sys.stderr.flush()
    if reason == "SIGTERM":
        # Die of the signal, as a Go plugin would.
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        os.kill(os.getpid(), signal.SIGTERM)
    os._exit(0)  # don't wait for grpc's worker threads


if __name__ == "__main__":
    main()

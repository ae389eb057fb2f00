// TypeScript yamux against the real github.com/hashicorp/yamux v0.1.2 (go-plugin v1.8.0's), through
// interop/go/cmd/yamux-peer (built into .cache/interop-go by scripts/prepare-interop.ts).

import assert from "node:assert/strict";
import type { ChildProcess } from "node:child_process";
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { once } from "node:events";
import { mkdtempSync, rmSync } from "node:fs";
import type { Socket } from "node:net";
import { connect, createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import type { Duplex } from "node:stream";
import { after, describe, it } from "node:test";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { waitFor } from "../../test/support/fixture.ts";
import { goBinary } from "../../test/support/interop.ts";
import { PluginError } from "../errors/plugin-error.ts";
import type { YamuxSessionOptions } from "./session.ts";
import { YamuxSession } from "./session.ts";

const dir = mkdtempSync(join(tmpdir(), "pw-mux-go-"));
let socketCount = 0;
const peers: GoPeer[] = [];
after(() => {
  for (const peer of peers) peer.process.kill("SIGKILL");
  rmSync(dir, { recursive: true, force: true });
});

type PeerEvent = Record<string, unknown> & { event: string };

/** A running yamux-peer and the JSON events it printed. */
class GoPeer {
  readonly process: ChildProcess;
  readonly events: PeerEvent[] = [];
  readonly exited: Promise<number | null>;
  stderr = "";

  constructor(args: string[]) {
    this.process = spawn(goBinary("yamux-peer"), args, { stdio: ["ignore", "pipe", "pipe"] });
    peers.push(this);
    this.exited = once(this.process, "exit").then(([code]) => code as number | null);
    createInterface({ input: this.process.stdout! }).on("line", (line) => {
      this.events.push(JSON.parse(line) as PeerEvent);
    });
    this.process.stderr!.on("data", (chunk: Buffer) => {
      this.stderr += chunk.toString();
    });
  }

  /** The first event `match` accepts; fails at once when the peer exits without printing it. */
  waitFor(match: (e: PeerEvent) => boolean, what: string): Promise<PeerEvent> {
    const seen = () => `events ${JSON.stringify(this.events)}; stderr ${this.stderr}`;
    const gone = () => this.process.exitCode !== null || this.process.signalCode !== null;
    return waitFor(
      () => {
        const found = this.events.find(match);
        if (found === undefined && gone())
          throw new Error(`yamux-peer exited without printing its ${what}; ${seen()}`);
        return found;
      },
      20_000,
      `yamux-peer's ${what}`,
      seen,
    );
  }
}

/** Go listens (yamux server, as a go-plugin plugin); TypeScript dials as the yamux client. */
async function goServer(
  flags: string[] = [],
  options: Partial<YamuxSessionOptions> = {},
): Promise<{ peer: GoPeer; session: YamuxSession; socket: Socket }> {
  const path = join(dir, `g${socketCount++}`);
  const peer = new GoPeer(["-role", "server", "-listen", `unix:${path}`, ...flags]);
  await peer.waitFor((e) => e.event === "listening", "listening event");
  const socket = connect(path);
  await once(socket, "connect");
  return { peer, session: new YamuxSession(socket, { ...options, role: "client" }), socket };
}

/** TypeScript listens (yamux server); Go dials as the yamux client (a go-plugin host). */
async function goClient(
  flags: string[] = [],
  options: Partial<YamuxSessionOptions> = {},
): Promise<{ peer: GoPeer; session: YamuxSession; socket: Socket }> {
  const path = join(dir, `g${socketCount++}`);
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(path, resolve));
  const accepted = once(server, "connection") as Promise<[Socket]>;
  const peer = new GoPeer(["-role", "client", "-dial", `unix:${path}`, ...flags]);
  const [socket] = await accepted;
  server.close();
  return { peer, session: new YamuxSession(socket, { ...options, role: "server" }), socket };
}

function readAll(stream: Duplex): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    stream.on("data", (chunk: Buffer) => chunks.push(chunk));
    stream.once("end", () => resolve(Buffer.concat(chunks)));
    stream.once("error", reject);
  });
}

/** Reads one line (without waiting for the end of the stream). */
async function readLine(stream: Duplex): Promise<string> {
  let text = "";
  for await (const chunk of stream.iterator({ destroyOnReturn: false })) {
    text += (chunk as Buffer).toString();
    const end = text.indexOf("\n");
    if (end >= 0) return text.slice(0, end);
  }
  return text;
}

/** Opens a stream, sends a one-line command (then FIN) and returns the reply. */
async function command(session: YamuxSession, line: string): Promise<string> {
  const stream = session.open();
  stream.end(`${line}\n`);
  return (await readAll(stream)).toString().trim();
}

/** Accepts every stream and echoes it. */
function echoAll(session: YamuxSession): void {
  void (async () => {
    for await (const stream of session) {
      stream.on("error", () => {});
      stream.pipe(stream);
    }
  })();
}

/** Bytes i = i % 251, as yamux-peer's pattern(). */
function pattern(offset: number, length: number): Buffer {
  const out = Buffer.allocUnsafe(length);
  for (let i = 0; i < length; i++) out[i] = (offset + i) % 251;
  return out;
}

function patternSha256(total: number): string {
  const hash = createHash("sha256");
  const block = pattern(0, 251 * 1024);
  let done = 0;
  while (done < total) {
    const n = Math.min(block.length, total - done);
    hash.update(block.subarray(0, n)); // block starts at a multiple of 251: same bytes
    done += n;
  }
  return hash.digest("hex");
}

/** Writes `total` pattern bytes honouring back-pressure, then ends. */
async function writePattern(stream: Duplex, total: number): Promise<void> {
  const block = pattern(0, 251 * 1024);
  for (let sent = 0; sent < total; sent += block.length) {
    const n = Math.min(block.length, total - sent);
    if (!stream.write(block.subarray(0, n))) await once(stream, "drain");
  }
  stream.end();
}

// A full GC on demand, so the memory check sees what is retained rather than garbage that V8
// has not collected yet (RSS alone grows by tens of MiB on a plain net.Socket copy too).
setFlagsFromString("--expose-gc");
const gc = runInNewContext("gc") as () => void;

function retainedBytes(): number {
  gc();
  const usage = process.memoryUsage();
  return usage.heapUsed + usage.arrayBuffers;
}

/** Tracks the largest retained-memory growth over the baseline taken at creation. */
function memoryProbe(): { sample(): void; growth(): number; rssGrowth(): number } {
  const base = retainedBytes();
  const rssBase = process.memoryUsage.rss();
  let peak = base;
  let rssPeak = rssBase;
  return {
    sample() {
      peak = Math.max(peak, retainedBytes());
      rssPeak = Math.max(rssPeak, process.memoryUsage.rss());
    },
    growth: () => peak - base,
    rssGrowth: () => rssPeak - rssBase,
  };
}

function isCode(code: string, text?: RegExp) {
  return (error: unknown) =>
    error instanceof PluginError &&
    error.code === code &&
    (text === undefined || text.test(error.message));
}

const MiB = 1024 * 1024;

describe("yamux interop: TypeScript client, hashicorp/yamux server", () => {
  it("echoes 100 concurrent streams", async () => {
    const { session } = await goServer();
    const results = await Promise.all(
      Array.from({ length: 100 }, async (_, i) => {
        const size = 1 + ((i * 104_729) % (512 * 1024));
        const stream = session.open();
        const [echoed] = await Promise.all([
          readAll(stream),
          (async () => {
            stream.write("echo\n");
            await writePattern(stream, size);
          })(),
        ]);
        return echoed.equals(pattern(0, size));
      }),
    );
    assert.equal(results.filter(Boolean).length, 100);
    await session.close();
  });

  it("uploads 64 MiB and downloads 64 MiB on one stream each, memory flat", async () => {
    const { session } = await goServer();
    const total = 64 * MiB;
    const sampleEvery = 4 * MiB;

    const upload = session.open();
    upload.write("sink\n");
    const up = memoryProbe();
    const block = pattern(0, 251 * 1024);
    const replied = readAll(upload);
    for (let sent = 0; sent < total; sent += block.length) {
      const n = Math.min(block.length, total - sent);
      if (!upload.write(block.subarray(0, n))) await once(upload, "drain");
      if (Math.floor((sent + n) / sampleEvery) > Math.floor(sent / sampleEvery)) up.sample();
    }
    upload.end();
    assert.equal((await replied).toString().trim(), `${total} ${patternSha256(total)}`);

    const download = session.open();
    download.end(`source ${total}\n`);
    const down = memoryProbe();
    const hash = createHash("sha256");
    let received = 0;
    download.on("data", (chunk: Buffer) => {
      hash.update(chunk);
      if (Math.floor((received + chunk.length) / sampleEvery) > Math.floor(received / sampleEvery))
        down.sample();
      received += chunk.length;
    });
    await once(download, "end");
    assert.equal(received, total);
    assert.equal(hash.digest("hex"), patternSha256(total));
    // 64 MiB went each way; what stays live is a few 256 KiB windows, plus up to 4 MiB that
    // node's own socket read path holds at times (a plain net.Socket copy shows the same).
    for (const [what, probe] of [
      ["upload", up],
      ["download", down],
    ] as const) {
      const detail = `${what}: retained +${(probe.growth() / MiB).toFixed(2)} MiB, RSS +${(probe.rssGrowth() / MiB).toFixed(1)} MiB`;
      assert.ok(probe.growth() < 8 * MiB, detail);
    }
    await session.close();
  });

  it("a slow TypeScript reader holds the Go writer to the window", async () => {
    const { session, socket } = await goServer();
    const total = 16 * MiB;
    const stream = session.open();
    stream.end(`source ${total}\n`);
    stream.pause();
    await new Promise<void>((resolve) => stream.once("readable", resolve));
    await session.ping(); // the barrier: what Go wrote before its pong has arrived
    await session.ping();
    // Go may send the initial window plus what left the window into node's readable buffer
    // ('readable' fills it up to its high-water mark); headers and pongs are the 4 KiB.
    const buffered = stream.readableLength;
    assert.ok(buffered <= 256 * 1024, `${buffered} bytes in the readable buffer`);
    assert.ok(
      socket.bytesRead <= 256 * 1024 + buffered + 4096,
      `received ${socket.bytesRead} bytes with ${buffered} read into node's buffer`,
    );
    const hash = createHash("sha256");
    let received = 0;
    stream.on("data", (chunk: Buffer) => {
      hash.update(chunk);
      received += chunk.length;
    });
    stream.resume();
    await once(stream, "end");
    assert.equal(received, total);
    assert.equal(hash.digest("hex"), patternSha256(total));
    await session.close();
  });

  it("destroy() without an error closes (FIN): Go's reader sees EOF", async () => {
    const { peer, session } = await goServer();
    const stream = session.open();
    stream.write("expect-reset\n");
    await peer.waitFor((e) => e.event === "stream" && e.command === "expect-reset", "the stream");
    stream.destroy();
    const event = await peer.waitFor((e) => e.event === "read-error", "read-error");
    assert.equal(event.error, "", "io.Copy ended at EOF");
    await waitFor(
      async () => session.streamCount === 0,
      10_000,
      "Go's FIN for the destroyed stream",
    );
    await session.close();
  });

  it("half-closes: Go replies after reading our FIN", async () => {
    const { session } = await goServer();
    const stream = session.open();
    stream.write("sink\n");
    stream.write("some bytes");
    stream.end();
    const reply = (await readAll(stream)).toString().trim();
    assert.equal(reply, `10 ${createHash("sha256").update("some bytes").digest("hex")}`);
    await waitFor(
      async () => (await command(session, "num-streams")) === "1",
      10_000,
      "Go to forget it",
    );
    await session.close();
  });

  it("destroy(error) resets: Go's reader sees a connection reset", async () => {
    const { peer, session } = await goServer();
    const stream = session.open();
    stream.write("expect-reset\n");
    await peer.waitFor((e) => e.event === "stream" && e.command === "expect-reset", "the stream");
    stream.on("error", () => {});
    stream.destroy(new Error("abort"));
    const event = await peer.waitFor((e) => e.event === "read-error", "read-error");
    assert.equal(event.error, "connection reset");
    await session.close();
  });

  it("GoAway from Go: new streams are refused (RST), then open() fails", async () => {
    const { session } = await goServer();
    assert.equal(await command(session, "goaway"), "ok");
    await session.ping(); // GoAway has arrived
    await assert.throws(() => session.open(), isCode("UNAVAILABLE", /GoAway/));
    await session.close();
  });

  it("Go refuses a stream beyond its accept backlog with RST", async () => {
    const { peer, session } = await goServer(["-backlog", "1"]);
    const hold = session.open();
    hold.write("hold-accept\n");
    assert.equal(await readLine(hold), "held");
    const taken = session.open(); // the accept loop's last stream until the hold ends
    taken.write("echo\n");
    await peer.waitFor((e) => e.event === "stream" && e.id === taken.id, "the taken stream");
    const queued = session.open(); // fills the backlog of 1
    queued.write("echo\n");
    const refused = session.open();
    refused.write("echo\n");
    const error = await new Promise<Error>((resolve) => refused.once("error", resolve));
    assert.ok(isCode("UNAVAILABLE", new RegExp(`stream ${refused.id} was reset`))(error));
    hold.end();
    for (const stream of [taken, queued]) {
      stream.end("still fine");
      assert.equal((await readAll(stream)).toString(), "still fine");
    }
    await session.close();
  });

  it("answers Go's pings and Go answers ours", async () => {
    const { session } = await goServer();
    assert.match(await command(session, "ping"), /^ok \d+$/);
    const rtt = await session.ping();
    assert.ok(rtt >= 0 && rtt < 5000);
    await session.close();
  });

  it("answers Go's keep-alive pings, and Go answers ours", async () => {
    // An idle session: every byte on the socket is a 12-byte ping or pong.
    const goPings = await goServer(["-keepalive-ms", "10"], { keepAliveIntervalMs: 0 });
    await waitFor(
      async () => goPings.socket.bytesRead >= 5 * 12 && goPings.socket.bytesWritten >= 5 * 12,
      10_000,
      "five of Go's keep-alive pings answered",
    );
    assert.equal(goPings.socket.bytesWritten % 12, 0);
    await goPings.session.close();

    const ourPings = await goServer([], { keepAliveIntervalMs: 10 });
    await waitFor(
      async () => ourPings.socket.bytesRead >= 5 * 12,
      10_000,
      "Go's answers to five keep-alive pings",
    );
    assert.equal(ourPings.session.isClosed, false);
    await ourPings.session.close();
  });

  it("accepts streams Go opens (even ids) and echoes them", async () => {
    const { session } = await goServer();
    echoAll(session);
    const replies = await Promise.all(
      [1, 100_000, 3 * MiB].map((n) => command(session, `open-echo ${n}`)),
    );
    const ids = replies.map((r) => {
      assert.match(r, /^ok \d+$/);
      return Number(r.split(" ")[1]);
    });
    assert.ok(ids.every((id) => id % 2 === 0));
    await session.close();
  });

  it("works with a larger window on either side", async () => {
    const { session } = await goServer(["-window", String(4 * MiB)], {
      maxStreamWindowBytes: 4 * MiB,
    });
    echoAll(session);
    assert.match(await command(session, `open-echo ${8 * MiB}`), /^ok \d+$/);
    const stream = session.open();
    stream.write("sink\n");
    const [reply] = await Promise.all([readAll(stream), writePattern(stream, 16 * MiB)]);
    assert.equal(reply.toString().trim(), `${16 * MiB} ${patternSha256(16 * MiB)}`);
    await session.close();
  });

  it("our close() ends Go's session; Go's Close() ends ours", async () => {
    const first = await goServer();
    await first.session.close();
    await first.peer.waitFor((e) => e.event === "session-closed", "session-closed");
    assert.equal(await first.peer.exited, 0);

    const second = await goServer();
    const stream = second.session.open();
    const closed = once(stream, "close");
    const other = second.session.open();
    other.end("close-session\n");
    // EOF, close or a reset: which the socket reports first is a race; all mean the peer ended it.
    assert.ok(
      isCode(
        "UNAVAILABLE",
        /peer closed|connection closed|connection failed/,
      )(await second.session.closed),
    );
    await closed;
    assert.equal(stream.errored, null, "a connection that ends closes the streams quietly");
    assert.equal(await second.peer.exited, 0);
  });
});

describe("yamux interop: hashicorp/yamux client, TypeScript server", () => {
  it("echoes 64 concurrent 1 MiB streams Go opens", async () => {
    const { peer, session } = await goClient(["-streams", "64", "-size", String(MiB)]);
    echoAll(session);
    const report = await peer.waitFor((e) => e.event === "report", "report");
    assert.equal(report.error, "");
    assert.equal(report.ok, true);
    assert.equal(report.bytes, 64 * MiB);
    await session.close();
    assert.equal(await peer.exited, 0);
  });

  it("opens streams to Go (even ids) with every command", async () => {
    const { session } = await goClient();
    echoAll(session);
    const stream = session.open();
    assert.equal(stream.id, 2);
    stream.write("sink\n");
    const [reply] = await Promise.all([readAll(stream), writePattern(stream, 8 * MiB)]);
    assert.equal(reply.toString().trim(), `${8 * MiB} ${patternSha256(8 * MiB)}`);
    assert.match(await command(session, "ping"), /^ok \d+$/);
    assert.match(await command(session, `open-echo ${2 * MiB}`), /^ok \d+$/); // odd: Go's
    assert.ok((await session.ping()) >= 0);
    await session.close();
  });

  it("a slow Go reader holds the TypeScript writer to the window", async () => {
    const { peer, session, socket } = await goClient();
    const stream = session.open();
    stream.write("gated-sink\n");
    await peer.waitFor((e) => e.event === "stream" && e.command === "gated-sink", "gated-sink");
    const total = 8 * MiB;
    const start = socket.bytesWritten;
    // Ignore back-pressure on purpose: what the window holds back waits in the writer.
    const block = pattern(0, 251 * 256);
    for (let sent = 0; sent < total; sent += block.length) {
      stream.write(block.subarray(0, Math.min(block.length, total - sent)));
    }
    stream.end();
    await waitFor(
      async () => socket.bytesWritten - start >= 256 * 1024,
      10_000,
      "the first window",
    );
    await session.ping(); // Go has processed everything before its pong, window updates included
    await session.ping();
    const sent = socket.bytesWritten - start;
    assert.ok(sent <= 256 * 1024 + 1024, `${sent} bytes left with a 256 KiB window`);
    assert.ok(stream.writableLength >= total - 256 * 1024 - 64 * 1024, "the rest waits");
    const reply = readAll(stream);
    assert.equal(await command(session, "open-gate"), "ok");
    assert.equal((await reply).toString().trim(), `${total} ${patternSha256(total)}`);
    await session.close();
  });
});

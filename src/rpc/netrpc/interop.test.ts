// Our net/rpc against Go's own (the standard library's net/rpc and encoding/gob, no go-plugin),
// both directions over a real unix socket, through interop/go/cmd/netrpc-peer (built into
// .cache/interop-go by scripts/prepare-interop.ts). The service is netrpc-peer's service.go.
import assert from "node:assert/strict";
import type { ChildProcess } from "node:child_process";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, rmSync } from "node:fs";
import type { Server, Socket } from "node:net";
import { connect, createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { after, describe, it } from "node:test";
import { goBinary } from "../../../test/support/interop.ts";
import { waitFor } from "../../../test/support/wait.ts";
import { PluginError } from "../../errors/plugin-error.ts";
import { GoTime, go } from "../../gob/index.ts";
import { NetRpcClient } from "./client.ts";
import type { NetRpcImpl } from "./define.ts";
import { define } from "./define.ts";
import { NetRpcServer } from "./server.ts";
import { netrpcClient } from "./typed-client.ts";

const Address = go.struct("main.Address", { Street: go.string, Zip: go.uint32 });
const Person = go.struct("main.Person", {
  Name: go.string,
  Age: go.int,
  Admin: go.bool,
  Score: go.float64,
  Tags: go.slice(go.string),
  Attrs: go.map(go.string, go.int64),
  Home: go.ptr(Address),
  Created: go.time,
});

/** netrpc-peer's Plugin service (interop/go/cmd/netrpc-peer/service.go). */
const PeerService = define({
  Greet: { args: go.interface, reply: go.string },
  Echo: { args: go.string, reply: go.string },
  Add: { args: go.struct("main.AddArgs", { A: go.int64, B: go.int64 }), reply: go.int64 },
  Put: {
    args: go.struct("main.PutRequest", { Key: go.string, Value: go.bytes }),
    reply: go.interface,
  },
  Get: { args: go.string, reply: go.bytes },
  Fail: { args: go.string, reply: go.string },
  Birthday: { args: Person, reply: Person },
  Sum: { args: go.slice(go.int64), reply: go.int64 },
  Sleep: { args: go.int64, reply: go.int64 },
});

const dir = mkdtempSync(join(tmpdir(), "pw-netrpc-go-"));
let sockets = 0;
const children: ChildProcess[] = [];
const servers: Server[] = [];
after(() => {
  for (const child of children) child.kill("SIGKILL");
  for (const server of servers) server.close();
  rmSync(dir, { recursive: true, force: true });
});

type PeerEvent = Record<string, unknown> & { event: string };

/** Runs netrpc-peer with `args`; its stdin stays open (a server exits when it closes). */
function peer(args: string[]) {
  const child = spawn(goBinary("netrpc-peer"), args, { stdio: ["pipe", "pipe", "pipe"] });
  children.push(child);
  const events: PeerEvent[] = [];
  let stderr = "";
  createInterface({ input: child.stdout! }).on("line", (line) => events.push(JSON.parse(line)));
  child.stderr!.on("data", (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const seen = () => `events ${JSON.stringify(events)}; stderr ${stderr}`;
  const event = (name: string) =>
    waitFor(
      () => {
        const found = events.find((e) => e.event === name);
        if (found === undefined && child.exitCode !== null)
          throw new Error(`netrpc-peer exited without ${name}; ${seen()}`);
        return found;
      },
      30_000,
      `netrpc-peer's ${name} event`,
      seen,
    );
  const stop = async () => {
    child.stdin!.end();
    if (child.exitCode === null) await once(child, "exit");
  };
  return { child, events, event, stop };
}

/** Go serves; our client dials. */
async function goServer() {
  const path = join(dir, `g${sockets++}`);
  const goPeer = peer(["-listen", `unix:${path}`]);
  await goPeer.event("listening");
  const socket = connect(path);
  await once(socket, "connect");
  const client = new NetRpcClient(socket, { plugin: "netrpc-peer" });
  return { goPeer, client, plugin: netrpcClient(client, "Plugin", PeerService) };
}

describe("TypeScript net/rpc client -> Go net/rpc server", () => {
  it("calls methods of every argument and reply kind", async () => {
    const { goPeer, client, plugin } = await goServer();
    assert.equal(await plugin.Greet(null), "Hello!");
    assert.equal(await plugin.Echo("héllo, wörld ✓"), "héllo, wörld ✓");
    assert.equal(await plugin.Add({ A: 40n, B: 2n }), 42n);
    assert.equal(await plugin.Add({ A: -5n, B: 3n }), -2n);
    assert.equal(await plugin.Put({ Key: "k", Value: new Uint8Array([1, 2, 3]) }), null);
    assert.deepEqual([...(await plugin.Get("k"))], [1, 2, 3]);
    assert.equal(await plugin.Sum([1n, 2n, 3n, 4n, 1n << 40n]), 10n + (1n << 40n));
    const created = GoTime.fromDate(new Date(Date.UTC(1815, 11, 10)));
    const older = await plugin.Birthday({
      Name: "Ada",
      Age: 36,
      Admin: false,
      Score: 99.5,
      Tags: ["math"],
      Attrs: new Map([["engines", 2n]]),
      Home: null,
      Created: created,
    });
    assert.equal(older.Name, "Ada");
    assert.equal(older.Age, 37);
    assert.equal(older.Score, 99.5);
    assert.deepEqual(older.Tags, ["math", "seen"]);
    assert.deepEqual([...older.Attrs], [["engines", 2n]]);
    assert.deepEqual(older.Home, { Street: "Main St", Zip: 12345 });
    assert.equal(older.Created.unixSeconds, created.unixSeconds + 3600);
    await client.close();
    await goPeer.stop();
  });

  it("gets Go's error texts: a method's error, an unknown method or service", async () => {
    const { goPeer, client, plugin } = await goServer();
    const text = async (promise: Promise<unknown>) => {
      const error = await promise.then(
        () => assert.fail("expected an error"),
        (e: unknown) => e,
      );
      assert.ok(error instanceof PluginError && error.code === "NETRPC_ERROR", String(error));
      assert.equal(error.plugin, "netrpc-peer");
      return error.rawMessage;
    };
    assert.equal(await text(plugin.Get("nope")), "key not found: nope");
    assert.equal(await text(plugin.Fail("boom")), "boom");
    assert.equal(
      await text(client.call("Plugin.Nope", go.string, "x", go.string)),
      "rpc: can't find method Plugin.Nope",
    );
    assert.equal(
      await text(client.call("Nope.Greet", go.string, "x", go.string)),
      "rpc: can't find service Nope.Greet",
    );
    assert.match(
      await text(client.call("Plugin.Add", go.string, "x", go.int64)),
      /^gob: type mismatch/,
    );
    assert.equal(await plugin.Echo("still in step"), "still in step");
    await client.close();
    await goPeer.stop();
  });

  it("makes 64 concurrent calls, each answered with its own reply, in another order", async () => {
    // Half of them sleep on the Go side, longest first: the answers come back out of order.
    const { goPeer, client, plugin } = await goServer();
    const calls = Array.from({ length: 64 }, (_, i) =>
      i % 2 === 0 ? plugin.Echo(`call ${i}`) : plugin.Sleep(BigInt(64 - i)),
    );
    const replies = await Promise.all(calls);
    for (const [i, reply] of replies.entries())
      assert.equal(reply, i % 2 === 0 ? `call ${i}` : BigInt(64 - i));
    await client.close();
    await goPeer.stop();
  });

  it("gives up a call at its deadline while Go runs it on, and drops the late reply", async () => {
    const { goPeer, client, plugin } = await goServer();
    const started = performance.now();
    await assert.rejects(plugin.Sleep(400n, { timeoutMs: 30 }), { code: "DEADLINE_EXCEEDED" });
    assert.ok(performance.now() - started < 400, "rejected before Go answered");
    // Go's answer to the abandoned call comes in before this one's: it is read and dropped.
    assert.equal(await plugin.Sleep(600n), 600n);
    assert.equal(client.pending, 0);
    await client.close();
    await goPeer.stop();
  });

  it("fails pending calls with UNAVAILABLE when the Go server goes away", async () => {
    const { goPeer, client, plugin } = await goServer();
    const pending = plugin.Sleep(10_000n);
    await waitFor(() => client.pending === 1, 5000, "the pending call");
    goPeer.child.kill("SIGKILL");
    await assert.rejects(pending, { code: "UNAVAILABLE", plugin: "netrpc-peer" });
    await client.close();
  });
});

/** netrpc-peer's service, in TypeScript. */
function peerImpl(): NetRpcImpl<typeof PeerService> {
  const store = new Map<string, Uint8Array>();
  return {
    Greet: () => "Hello!",
    Echo: (text) => text,
    Add: ({ A, B }) => A + B,
    Put({ Key, Value }) {
      store.set(Key, Value);
      return undefined;
    },
    Get(key) {
      const value = store.get(key);
      if (value === undefined) throw new Error(`key not found: ${key}`);
      return value;
    },
    Fail(message) {
      throw new Error(message);
    },
    Birthday: (person) => ({
      ...person,
      Age: person.Age + 1,
      Tags: [...person.Tags, "seen"],
      Home: person.Home ?? { Street: "Main St", Zip: 12345 },
      Created: new GoTime(person.Created.unixSeconds + 3600, person.Created.nanoseconds),
    }),
    Sum: (values) => values.reduce((a, b) => a + b, 0n),
    async Sleep(ms) {
      await new Promise((resolve) => setTimeout(resolve, Number(ms)));
      return ms;
    },
  };
}

describe("Go net/rpc client -> TypeScript net/rpc server", () => {
  it("gets the same answers from our server as from Go's", async () => {
    const path = join(dir, `t${sockets++}`);
    const server = new NetRpcServer().register("Plugin", PeerService, peerImpl());
    const served: Array<Promise<void>> = [];
    const listener = createServer((socket: Socket) => served.push(server.serve(socket)));
    servers.push(listener);
    await new Promise<void>((resolve) => listener.listen(path, resolve));
    const goPeer = peer(["-dial", `unix:${path}`, "-checks"]);
    await goPeer.event("done");
    const checks = new Map(
      goPeer.events.filter((e) => e.event === "check").map((e) => [e.name as string, e]),
    );
    const reply = (name: string) => checks.get(name)?.reply;
    const error = (name: string) => checks.get(name)?.error;
    assert.equal(reply("greet"), "Hello!");
    assert.equal(reply("echo"), "héllo, wörld ✓");
    assert.equal(reply("add"), 42);
    assert.equal(reply("addNegative"), -2);
    assert.equal(reply("put"), null);
    assert.equal(reply("get"), "AQID");
    assert.equal(error("getMissing"), "key not found: nope");
    assert.equal(error("fail"), "boom");
    assert.equal(error("unknownMethod"), "rpc: can't find method Plugin.Nope");
    assert.equal(error("unknownService"), "rpc: can't find service Nope.Greet");
    assert.equal(typeof error("wrongArgs"), "string");
    assert.equal(reply("afterErrors"), "still in sync");
    assert.deepEqual(reply("birthday"), {
      Name: "Ada",
      Age: 37,
      Admin: false,
      Score: 99.5,
      Tags: ["math", "seen"],
      Attrs: { engines: 2 },
      Home: { Street: "Main St", Zip: 12345 },
      Created: "1815-12-10T01:00:00Z",
    });
    assert.equal(reply("sum"), 1099511627786);
    assert.equal(reply("concurrent"), 64, JSON.stringify(checks.get("concurrent")));
    await Promise.all(served);
    await server.close();
  });
});

/** A unix socket that forwards each connection to `target`, recording both directions. */
async function recordingProxy(target: string) {
  const path = join(dir, `p${sockets++}`);
  const up: Buffer[] = [];
  const down: Buffer[] = [];
  const closed: Array<Promise<unknown>> = [];
  const proxy = createServer((near: Socket) => {
    const far = connect(target);
    near.on("data", (chunk: Buffer) => up.push(chunk) && far.write(chunk));
    far.on("data", (chunk: Buffer) => down.push(chunk) && near.write(chunk));
    near.on("close", () => far.destroy());
    far.on("close", () => near.destroy());
    closed.push(once(near, "close"), once(far, "close"));
  });
  servers.push(proxy);
  await new Promise<void>((resolve) => proxy.listen(path, resolve));
  return {
    path,
    /** Both directions once every forwarded connection has closed. */
    async bytes() {
      await Promise.all(closed);
      return { up: Buffer.concat(up), down: Buffer.concat(down) };
    },
  };
}

/** The calls of netrpc-peer's -sequence, made by our typed client. */
async function sequence(client: NetRpcClient): Promise<void> {
  const plugin = netrpcClient(client, "Plugin", PeerService);
  const settled = (promise: Promise<unknown>) =>
    promise.then(
      () => undefined,
      () => undefined,
    );
  await plugin.Greet(null);
  await plugin.Echo("héllo, wörld ✓");
  await plugin.Add({ A: 40n, B: 2n });
  await plugin.Add({ A: -5n, B: 3n });
  await plugin.Put({ Key: "k", Value: new Uint8Array([1, 2, 3]) });
  await plugin.Get("k");
  await settled(plugin.Get("nope"));
  await settled(plugin.Fail("boom"));
  await settled(client.call("Plugin.Nope", go.string, "x", go.string));
  await settled(client.call("Nope.Greet", go.string, "x", go.string));
  await plugin.Birthday({
    Name: "Ada",
    Age: 36,
    Admin: false,
    Score: 99.5,
    Tags: ["math"],
    Attrs: new Map([["engines", 2n]]),
    Home: null,
    Created: GoTime.fromDate(new Date(Date.UTC(1815, 11, 10))),
  });
  await plugin.Sum([1n, 2n, 3n, 4n, 1n << 40n]);
}

describe("net/rpc bytes, ours against Go's", () => {
  it("our client writes the bytes Go's client writes, and our server answers with Go's server's", async () => {
    const goPath = join(dir, `g${sockets++}`);
    const goServerPeer = peer(["-listen", `unix:${goPath}`]);
    await goServerPeer.event("listening");

    // Go client -> Go server: the reference, both directions.
    const reference = await recordingProxy(goPath);
    await peer(["-dial", `unix:${reference.path}`, "-sequence"]).event("done");
    const go = await reference.bytes();
    assert.ok(go.up.byteLength > 500 && go.down.byteLength > 500, "the reference was recorded");

    // Our client -> Go server: the same calls.
    const oursUp = await recordingProxy(goPath);
    const socket = connect(oursUp.path);
    await once(socket, "connect");
    const client = new NetRpcClient(socket);
    await sequence(client);
    await client.close();
    assert.equal((await oursUp.bytes()).up.toString("hex"), go.up.toString("hex"));

    // Go client -> our server: the same answers.
    const tsPath = join(dir, `t${sockets++}`);
    const server = new NetRpcServer().register("Plugin", PeerService, peerImpl());
    const listener = createServer((conn: Socket) => void server.serve(conn));
    servers.push(listener);
    await new Promise<void>((resolve) => listener.listen(tsPath, resolve));
    const oursDown = await recordingProxy(tsPath);
    await peer(["-dial", `unix:${oursDown.path}`, "-sequence"]).event("done");
    assert.equal((await oursDown.bytes()).down.toString("hex"), go.down.toString("hex"));
    await server.close();
    await goServerPeer.stop();
  });
});

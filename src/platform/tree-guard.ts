// The tree guard: one small `/bin/sh` process per host that kills every plugin's process group and
// removes its socket directory once the host is gone, however it died (SIGKILL included).
//
// The kernel's parent-death signal (setpriv --pdeathsig) reaches only a plugin's own process, not
// the children it started; a process group kill reaches them, but someone must send it after the
// host died. The guard reads registrations from a pipe only the host holds: end of file means the
// host is gone, and the guard then does what the host no longer can. Measured choices and figures:
// docs/lifecycle.md ("Process trees").
import type { ChildProcess } from "node:child_process";
import { spawn } from "node:child_process";

/**
 * The guard's script. Lines on stdin: `+ <pgid> <dir>` registers a plugin's process group (and its
 * socket directory, or `-` for none), `- <pgid>` forgets it. At end of file, SIGKILL each group
 * still registered and remove its directory. Terminal signals are ignored: only the host's death
 * ends it (it runs in a session of its own, so a Ctrl-C to the host's group never reaches it).
 */
const script = `trap '' INT HUP TERM QUIT PIPE
live=""
while read -r op pgid dir; do
  case "$pgid" in ''|*[!0-9]*) continue ;; esac
  case "$op" in
    +) eval "d_$pgid=\\$dir"; live="$live $pgid" ;;
    -) unset "d_$pgid"; keep=""
       for p in $live; do [ "$p" = "$pgid" ] || keep="$keep $p"; done
       live=$keep ;;
  esac
done
for p in $live; do kill -s KILL -- "-$p" 2>/dev/null; done
for p in $live; do
  eval "dir=\\\${d_$p-}"
  case "$dir" in ''|-) ;; *) rm -rf -- "$dir" ;; esac
done
`;

let guard: ChildProcess | undefined;
let unavailable = false;

function start(): ChildProcess | undefined {
  if (guard !== undefined || unavailable) return guard;
  if (process.platform === "win32") {
    unavailable = true;
    return undefined;
  }
  try {
    const child = spawn("/bin/sh", ["-c", script], {
      stdio: ["pipe", "ignore", "ignore"],
      detached: true, // its own session: terminal signals to the host's group never reach it
    });
    child.once("error", () => {
      // No /bin/sh: plugins still die with the host (dieWithHost), their children may not.
      unavailable = true;
      guard = undefined;
    });
    child.once("exit", () => {
      if (guard === child) guard = undefined;
    });
    child.stdin!.on("error", () => {}); // the guard gone: registrations are dropped
    // The guard must never keep the host alive: neither its process nor its pipe holds the loop.
    child.unref();
    (child.stdin as unknown as { unref?: () => void }).unref?.();
    guard = child;
  } catch {
    unavailable = true;
  }
  return guard;
}

/**
 * Registers a plugin's process group (`pgid`, the plugin's pid when it leads its own group) and
 * its private socket directory with the host's guard. Returns the function that unregisters it,
 * to call once the group has been killed and the directory removed. A no-op where no guard can
 * run (Windows, no /bin/sh): then only the plugin's own process dies with the host.
 */
export function guardTree(pgid: number, dir: string | undefined): () => void {
  const child = start();
  if (child === undefined || child.stdin === null || !Number.isInteger(pgid) || pgid <= 1)
    return () => {};
  // Newlines cannot be part of a registration (a directory name is ours: plugwire-<pid>-XXXXXX).
  const safeDir = dir === undefined || /[\n\r]/.test(dir) ? "-" : dir;
  child.stdin.write(`+ ${pgid} ${safeDir}\n`);
  let done = false;
  return () => {
    if (done) return;
    done = true;
    if (guard === child && child.stdin?.writable === true) child.stdin.write(`- ${pgid}\n`);
  };
}

/** The guard's pid, if one runs (tests). @internal */
export function guardPid(): number | undefined {
  return guard?.pid;
}

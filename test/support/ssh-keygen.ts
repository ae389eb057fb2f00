// OpenSSH's own tool, for tests that check plugwire's signatures against the real thing.
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";

export const sshKeygen = "/usr/bin/ssh-keygen";

/**
 * `ssh-keygen -Y verify` of `file` against `signature`, for `identity` in `allowedSigners`,
 * namespace `plugwire`: status 0 and "Good …" on stdout when OpenSSH accepts it.
 */
export function sshKeygenVerify(
  allowedSigners: string,
  identity: string,
  file: string,
  signature: string,
) {
  return spawnSync(
    sshKeygen,
    ["-Y", "verify", "-f", allowedSigners, "-I", identity, "-n", "plugwire", "-s", signature],
    { input: readFileSync(file), encoding: "utf8" },
  );
}

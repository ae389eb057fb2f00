import { closeSync, openSync, readSync, statSync } from "node:fs";

/**
 * go-plugin's "This usually means …" paragraph for a plugin whose first line is not a handshake
 * (cmdrunner Diagnose), with the facts about the executable that explain most cases.
 */
export function diagnose(path: string): string {
  const lines = [
    "This usually means",
    "  the plugin was not compiled for this architecture,",
    "  the plugin is missing dynamic-link libraries necessary to run,",
    "  the plugin is not executable by this process due to file permissions, or",
    "  the plugin failed to negotiate the initial go-plugin protocol handshake",
    "",
    "Additional notes about plugin:",
    `  Path: ${path}`,
  ];
  try {
    const stat = statSync(path);
    lines.push(`  Mode: ${modeString(stat.mode)}`);
    const uid = process.getuid?.();
    const gid = process.getgid?.();
    lines.push(
      `  Owner: ${stat.uid} (current: ${uid ?? "?"})`,
      `  Group: ${stat.gid} (current: ${gid ?? "?"})`,
    );
    lines.push(`  ${executableFormat(path)}`);
  } catch (error) {
    lines.push(`  (cannot inspect: ${(error as Error).message})`);
  }
  return lines.join("\n");
}

function modeString(mode: number): string {
  const chars = "rwxrwxrwx";
  let out = (mode & 0o170000) === 0o040000 ? "d" : "-";
  for (let i = 0; i < 9; i++) out += mode & (1 << (8 - i)) ? chars[i] : "-";
  return out;
}

function executableFormat(path: string): string {
  const head = Buffer.alloc(20);
  const fd = openSync(path, "r");
  try {
    readSync(fd, head, 0, 20, 0);
  } finally {
    closeSync(fd);
  }
  if (head.subarray(0, 4).equals(Buffer.from([0x7f, 0x45, 0x4c, 0x46]))) {
    const machine = head.readUInt16LE(18);
    const names: Record<number, string> = {
      62: "EM_X86_64",
      183: "EM_AARCH64",
      3: "EM_386",
      40: "EM_ARM",
    };
    return `ELF architecture: ${names[machine] ?? `machine ${machine}`} (current architecture: ${process.arch})`;
  }
  if (head.subarray(0, 2).toString("latin1") === "#!")
    return `Script: ${head.toString("latin1").split("\n")[0]}`;
  return "Format: not an ELF executable or script";
}

// The oldest Node the compiled package runs on, checked once at the top of every public entry
// (and by the CLI launcher) so an older Node fails with one clear sentence instead of a
// SyntaxError from deep inside a dependency.

/** Same floor as `engines.node` in package.json. */
export const minimumNode = { major: 22, minor: 12 } as const;

/** Why `version` (e.g. `process.versions.node`) is too old, or undefined when it is supported. */
export function unsupportedNode(version: string): string | undefined {
  const [major = 0, minor = 0] = version.split(".").map(Number);
  if (major > minimumNode.major || (major === minimumNode.major && minor >= minimumNode.minor))
    return undefined;
  return (
    `plugwire needs Node.js ${minimumNode.major}.${minimumNode.minor} or newer; this is Node.js ${version}. ` +
    "Install a current LTS (https://nodejs.org) or run `npx -p node@24 …`."
  );
}

// `npm run structure`: the shape of src/, in three reports.
//   1. Module cycles: every import, `import type` included (a type-only cycle still ties two
//      modules' designs together), found by dependency-cruiser. Any cycle fails.
//   2. The folder graph: each concern's folder is a node, each import between two folders an
//      edge. A cycle between folders fails: it means two concerns have no clear order.
//   3. Sizes: modules over 400 lines and functions over 80 lines. Reported; they fail only with
//      `--gate`, while the big functions are still being split.
// `--root DIR` checks another checkout (an old commit unpacked with `git archive`).
import { existsSync, globSync, readFileSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import type { ICruiseResult, IModule } from "dependency-cruiser";
import { cruise } from "dependency-cruiser";
import extractTSConfig from "dependency-cruiser/config-utl/extract-ts-config";
import ts from "typescript";

const moduleLimit = 400;
const functionLimit = 80;
// The folder report names the imports behind an edge of a folder cycle carried by this many or fewer.
const thinEdge = 3;

// Subfolders that are concerns of their own rather than parts of their parent's. The list covers
// the current layout and the one before it (src/manager/sources); a folder with no module in it
// is simply never a node.
const ownNodes = [
  "rpc/core",
  "rpc/grpc",
  "rpc/fast",
  "rpc/h2",
  "rpc/reflection",
  "rpc/netrpc",
  "host/start",
  "host/client",
  "plugin/serve",
  "manager/sources",
];

interface Import {
  from: string;
  to: string;
  typeOnly: boolean;
}

/** Every import from one module of src/ to another, tests excluded. */
async function cruiseSrc(root: string): Promise<{ modules: string[]; imports: Import[] }> {
  // dependency-cruiser resolves the paths it is given against the working directory.
  process.chdir(root);
  const tsconfig = join(root, "tsconfig.json");
  const reported = await cruise(
    ["src"],
    {
      baseDir: root,
      tsPreCompilationDeps: true,
      tsConfig: { fileName: tsconfig },
      exclude: { path: ["node_modules", "^dist/", "^docs/api/", "\\.test\\.ts$"] },
      includeOnly: "^src/",
    },
    {},
    { tsConfig: extractTSConfig(tsconfig) },
  );
  const result = reported.output as ICruiseResult;
  // One entry per pair of modules: dependency-cruiser lists each import statement, and a pair is
  // type-only when every statement between them is.
  const imports = new Map<string, Import>();
  for (const module of result.modules as IModule[]) {
    for (const dependency of module.dependencies) {
      if (dependency.coreModule || dependency.couldNotResolve) continue;
      if (!dependency.resolved.startsWith("src/")) continue;
      const typeOnly = dependency.dependencyTypes.includes("type-only");
      const key = `${module.source} ${dependency.resolved}`;
      const seen = imports.get(key);
      if (seen) seen.typeOnly &&= typeOnly;
      else imports.set(key, { from: module.source, to: dependency.resolved, typeOnly });
    }
  }
  return { modules: result.modules.map((m) => m.source), imports: [...imports.values()] };
}

type Graph = Map<string, Set<string>>;

function graphOf(nodes: Iterable<string>, edges: Iterable<[string, string]>): Graph {
  const graph: Graph = new Map();
  for (const node of nodes) graph.set(node, new Set());
  for (const [from, to] of edges) {
    if (!graph.has(from)) graph.set(from, new Set());
    if (!graph.has(to)) graph.set(to, new Set());
    graph.get(from)!.add(to);
  }
  return graph;
}

/** Tarjan's strongly connected components with more than one node (or a node importing itself). */
function tangles(graph: Graph): string[][] {
  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (node: string): void => {
    index.set(node, next);
    low.set(node, next++);
    stack.push(node);
    onStack.add(node);
    for (const to of graph.get(node) ?? []) {
      if (!index.has(to)) {
        visit(to);
        low.set(node, Math.min(low.get(node)!, low.get(to)!));
      } else if (onStack.has(to)) {
        low.set(node, Math.min(low.get(node)!, index.get(to)!));
      }
    }
    if (low.get(node) !== index.get(node)) return;
    const component: string[] = [];
    let member: string;
    do {
      member = stack.pop()!;
      onStack.delete(member);
      component.push(member);
    } while (member !== node);
    if (component.length > 1 || graph.get(node)?.has(node)) found.push(component.sort());
  };
  for (const node of [...graph.keys()].sort()) if (!index.has(node)) visit(node);
  return found.sort((a, b) => a[0]!.localeCompare(b[0]!));
}

/** The shortest way from `start` back to itself inside `within` (breadth first). */
function shortestCycle(graph: Graph, start: string, within: Set<string>): string[] {
  const cameFrom = new Map<string, string>();
  const queue = [start];
  while (queue.length > 0) {
    const node = queue.shift()!;
    for (const to of [...(graph.get(node) ?? [])].sort()) {
      if (!within.has(to)) continue;
      if (to === start) {
        const path = [node];
        while (path[0] !== start) path.unshift(cameFrom.get(path[0]!)!);
        return [...path, start];
      }
      if (cameFrom.has(to)) continue;
      cameFrom.set(to, node);
      queue.push(to);
    }
  }
  return [start];
}

/** A few cycles that cover a tangle: the shortest one through each member, each listed once. */
function cyclesThrough(graph: Graph, members: string[]): string[][] {
  const within = new Set(members);
  const seen = new Map<string, string[]>();
  for (const member of members) {
    const cycle = shortestCycle(graph, member, within).slice(0, -1);
    // The same cycle found from another member starts elsewhere: rotate it to its smallest node.
    const first = cycle.indexOf([...cycle].sort()[0]!);
    const rotated = [...cycle.slice(first), ...cycle.slice(0, first)];
    seen.set(rotated.join(" "), [...rotated, rotated[0]!]);
  }
  return [...seen.values()].sort((a, b) => a.length - b.length || a.join().localeCompare(b.join()));
}

/** Part 1: cycles between modules, each tangle with the cycles that cover it. */
function moduleCycles(modules: string[], imports: Import[]): { lines: string[]; failed: boolean } {
  const graph = graphOf(
    modules,
    imports.map((i) => [i.from, i.to]),
  );
  const typeOnly = new Set(imports.filter((i) => i.typeOnly).map((i) => `${i.from} ${i.to}`));
  const arrow = (from: string, to: string) =>
    typeOnly.has(`${from} ${to}`) ? " -(type)-> " : " -> ";
  const found = tangles(graph);
  const lines = [
    `== module cycles (dependency-cruiser, type-only imports included): ${modules.length} modules, ${imports.length} imports`,
  ];
  if (found.length === 0) lines.push("no module cycles");
  for (const [n, members] of found.entries()) {
    lines.push(`cycle ${n + 1}: ${members.length} modules tied together; through each of them:`);
    for (const cycle of cyclesThrough(graph, members)) {
      const steps = cycle.slice(1).map((to, i) => `${arrow(cycle[i]!, to)}${to}`);
      lines.push(`  ${cycle[0]}${steps.join("")}`);
    }
  }
  return { lines, failed: found.length > 0 };
}

/** The folder a module belongs to: its top-level folder of src/, or one of `ownNodes`. */
function folderOf(module: string): string {
  const parts = module.replace(/^src\//, "").split("/");
  if (parts.length === 1) return parts[0]!.replace(/\.[cm]?[jt]s$/, "");
  const nested = `${parts[0]}/${parts[1]}`;
  return parts.length > 2 && ownNodes.includes(nested) ? nested : parts[0]!;
}

/** Part 2: the folder graph, every edge with its number of imports, and its cycles. */
function folderGraph(modules: string[], imports: Import[]): { lines: string[]; failed: boolean } {
  const counts = new Map<string, Import[]>();
  for (const i of imports) {
    const from = folderOf(i.from);
    const to = folderOf(i.to);
    if (from === to) continue;
    const key = `${from} -> ${to}`;
    counts.set(key, [...(counts.get(key) ?? []), i]);
  }
  const keys = [...counts.keys()].sort();
  const nodes = [...new Set(modules.map(folderOf))].sort();
  const graph = graphOf(
    nodes,
    keys.map((k) => k.split(" -> ") as [string, string]),
  );
  const lines = [`== folder graph: ${nodes.length} folders, ${keys.length} edges`];
  for (const key of keys) lines.push(`${key} (${counts.get(key)!.length})`);
  const found = tangles(graph);
  if (found.length === 0) lines.push("no folder cycles");
  for (const members of found) {
    lines.push(`folder cycle: ${members.length} folders tied together (${members.join(", ")}):`);
    for (const cycle of cyclesThrough(graph, members)) lines.push(`  ${cycle.join(" -> ")}`);
    // Edges carried by a few imports are the cheap ones to cut: name those imports.
    lines.push(`  the edges inside it of ${thinEdge} imports or fewer:`);
    for (const key of keys) {
      const [from, to] = key.split(" -> ") as [string, string];
      const carried = counts.get(key)!;
      if (!members.includes(from) || !members.includes(to) || carried.length > thinEdge) continue;
      const named = carried.map((i) => `${i.from} -> ${i.to}${i.typeOnly ? " (type)" : ""}`);
      lines.push(`    ${key}: ${named.join(", ")}`);
    }
  }
  return { lines, failed: found.length > 0 };
}

interface Oversize {
  lines: number;
  what: string;
  where: string;
}

/** The name a function goes by, or undefined for an anonymous callback (not measured). */
function functionName(node: ts.Node, file: ts.SourceFile): string | undefined {
  const owner = (n: ts.Node): string => {
    const parent = n.parent;
    if (ts.isClassLike(parent) && parent.name) return `${parent.name.text}.`;
    return "";
  };
  if (ts.isFunctionDeclaration(node)) return node.name?.text ?? "default";
  if (ts.isConstructorDeclaration(node)) return `${owner(node)}constructor`;
  if (ts.isMethodDeclaration(node) || ts.isGetAccessor(node) || ts.isSetAccessor(node))
    return `${owner(node)}${node.name.getText(file)}`;
  if (!ts.isArrowFunction(node) && !ts.isFunctionExpression(node)) return undefined;
  const parent = node.parent;
  if (ts.isVariableDeclaration(parent) || ts.isPropertyAssignment(parent))
    return parent.name.getText(file);
  if (ts.isPropertyDeclaration(parent)) return `${owner(parent)}${parent.name.getText(file)}`;
  if (ts.isBinaryExpression(parent) && parent.operatorToken.kind === ts.SyntaxKind.EqualsToken)
    return parent.left.getText(file);
  return undefined;
}

/** Part 3: modules and functions over their limits. Nested functions count on their own. */
function sizes(root: string): { lines: string[]; over: number } {
  const files = globSync("src/**/*.ts", { cwd: root })
    .filter((f) => !f.startsWith("src/gen/") && !/\.(test|bench)\.ts$/.test(f))
    .sort();
  const modules: Oversize[] = [];
  const functions: Oversize[] = [];
  for (const path of files) {
    const text = readFileSync(join(root, path), "utf8");
    const file = ts.createSourceFile(path, text, ts.ScriptTarget.Latest, true);
    const lineOf = (pos: number) => file.getLineAndCharacterOfPosition(pos).line + 1;
    const total = text.endsWith("\n") ? lineOf(text.length) - 1 : lineOf(text.length);
    if (total > moduleLimit) modules.push({ lines: total, what: path, where: path });
    const walk = (node: ts.Node): void => {
      const name = functionName(node, file);
      if (name !== undefined && (node as ts.FunctionLikeDeclaration).body !== undefined) {
        const start = lineOf(node.getStart(file));
        const length = lineOf(node.getEnd()) - start + 1;
        if (length > functionLimit)
          functions.push({ lines: length, what: name, where: `${path}:${start}` });
      }
      ts.forEachChild(node, walk);
    };
    walk(file);
  }
  const byLines = (a: Oversize, b: Oversize) => b.lines - a.lines || a.where.localeCompare(b.where);
  const lines = [
    `== sizes: ${files.length} modules (src/ less src/gen, tests and benches); limits ${moduleLimit} lines a module, ${functionLimit} a function`,
    `modules over ${moduleLimit} lines: ${modules.length}`,
    ...modules.sort(byLines).map((m) => `  ${String(m.lines).padStart(5)}  ${m.where}`),
    `functions over ${functionLimit} lines: ${functions.length}`,
    ...functions
      .sort(byLines)
      .map((f) => `  ${String(f.lines).padStart(5)}  ${f.what}  ${f.where}`),
  ];
  return { lines, over: modules.length + functions.length };
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: { root: { type: "string" }, gate: { type: "boolean", default: false } },
  });
  const root = resolve(values.root ?? fileURLToPath(new URL("..", import.meta.url)));
  if (!existsSync(join(root, "src")) || !statSync(join(root, "src")).isDirectory()) {
    console.error(`structure: ${root} has no src/ folder (--root names a checkout)`);
    return 2;
  }
  const started = Date.now();
  let graph: Awaited<ReturnType<typeof cruiseSrc>>;
  try {
    graph = await cruiseSrc(root);
  } catch (error) {
    // A file that moved while it was being read, or an import that does not parse.
    console.error(`structure: could not read src/'s imports: ${(error as Error).message}`);
    return 2;
  }
  const { modules, imports } = graph;
  const cycles = moduleCycles(modules, imports);
  const folders = folderGraph(modules, imports);
  const size = sizes(root);
  console.log([...cycles.lines, "", ...folders.lines, "", ...size.lines, ""].join("\n"));
  const failures = [
    cycles.failed && "modules import each other in a cycle (fix: move the shared piece down)",
    folders.failed && "folders import each other in a cycle (fix: cut the imports listed)",
    values.gate && size.over > 0 && `${size.over} modules or functions over the size limits`,
  ].filter((f) => typeof f === "string");
  const took = `${((Date.now() - started) / 1000).toFixed(1)} s`;
  if (failures.length === 0) {
    console.log(`structure: ok (${took})`);
    return 0;
  }
  console.error(`structure: FAILED (${took}):\n  ${failures.join("\n  ")}`);
  return 1;
}

process.exitCode = await main();

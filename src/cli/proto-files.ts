// Descriptors the user hands `plugwire call`: FileDescriptorSets (--protoset) and .proto files
// (--proto, compiled by buf or protoc into a FileDescriptorSet).
import { execFile } from "node:child_process";
import { accessSync, constants, existsSync, statSync } from "node:fs";
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { delimiter, dirname, isAbsolute, join, relative, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";
import type { FileRegistry } from "@bufbuild/protobuf";
import { fromBinary } from "@bufbuild/protobuf";
import type { FileDescriptorProto } from "@bufbuild/protobuf/wkt";
import { FileDescriptorSetSchema } from "@bufbuild/protobuf/wkt";
import { PluginError } from "../errors/plugin-error.ts";
import { fileRegistryOf } from "../rpc/reflection/file-set.ts";

export interface ProtoFlags {
  /** .proto files to compile. */
  readonly proto?: readonly string[] | undefined;
  /** Directories imports are resolved in (default: the directory of each .proto file). */
  readonly importPath?: readonly string[] | undefined;
  /** Binary FileDescriptorSet files (`buf build -o x.binpb`, `protoc --descriptor_set_out`). */
  readonly protoset?: readonly string[] | undefined;
}

/** The registry the flags describe, or undefined when they name no files. */
export async function loadProtoFiles(flags: ProtoFlags): Promise<FileRegistry | undefined> {
  const files: FileDescriptorProto[] = [];
  for (const path of flags.protoset ?? []) files.push(...(await readProtoset(path)));
  if ((flags.proto ?? []).length > 0) files.push(...(await compileProtos(flags)));
  if (files.length === 0) return undefined;
  try {
    return fileRegistryOf(files);
  } catch (error) {
    throw new PluginError(
      "PROTO_INVALID",
      `the descriptors given are incomplete: ${(error as Error).message} (a protoset needs its imports: buf build includes them, protoc needs --include_imports)`,
      { cause: error },
    );
  }
}

async function readProtoset(path: string): Promise<FileDescriptorProto[]> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (error) {
    throw new PluginError(
      "PROTO_INVALID",
      `cannot read --protoset ${path}: ${(error as Error).message}`,
      {
        cause: error,
      },
    );
  }
  try {
    return fromBinary(FileDescriptorSetSchema, bytes).file;
  } catch (error) {
    throw new PluginError(
      "PROTO_INVALID",
      `--protoset ${path} is not a binary FileDescriptorSet (${(error as Error).message}); make one with \`buf build -o ${path}\` or \`protoc --include_imports --descriptor_set_out=${path}\``,
      { cause: error },
    );
  }
}

/** A protobuf compiler: `buf` (preferred) or `protoc`. */
export interface ProtoCompiler {
  readonly kind: "buf" | "protoc";
  readonly file: string;
}

/**
 * Finds `buf` or `protoc` on `path` (the PATH variable's form), then in the nearest
 * node_modules/.bin above each of `from` (the working directory, plugwire's own location).
 */
export function findProtoCompiler(
  path: string = process.env.PATH ?? "",
  from: readonly string[] = [process.cwd(), fileURLToPath(new URL(".", import.meta.url))],
): ProtoCompiler | undefined {
  const dirs = path.split(delimiter).filter((d) => d !== "");
  for (const start of from) {
    const bin = nearestBin(start);
    if (bin !== undefined) dirs.push(bin);
  }
  for (const dir of dirs)
    for (const kind of ["buf", "protoc"] as const) {
      const file = join(dir, kind);
      if (isExecutable(file)) return { kind, file };
    }
  return undefined;
}

function nearestBin(start: string): string | undefined {
  for (let dir = resolve(start); ; dir = dirname(dir)) {
    const bin = join(dir, "node_modules", ".bin");
    if (existsSync(bin)) return bin;
    if (dirname(dir) === dir) return undefined;
  }
}

function isExecutable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return statSync(file).isFile();
  } catch {
    return false;
  }
}

/** Each .proto file as an import path and its name relative to it (what imports refer to). */
function locate(
  protos: readonly string[],
  importPaths: readonly string[],
): { roots: string[]; files: Array<{ root: number; name: string }> } {
  const roots = importPaths.map((p) => resolve(p));
  const files = protos.map((proto) => {
    const absolute = resolve(proto);
    if (existsSync(absolute)) {
      if (importPaths.length === 0) {
        // No -I: the file's own directory is its import path.
        let root = roots.indexOf(dirname(absolute));
        if (root < 0) root = roots.push(dirname(absolute)) - 1;
        return { root, name: relative(roots[root]!, absolute) };
      }
      const root = roots.findIndex((r) => absolute.startsWith(r + sep));
      if (root < 0)
        throw new PluginError(
          "PROTO_INVALID",
          `--proto ${proto} is not inside any --import-path (${importPaths.join(", ")}); add its directory with -I`,
        );
      return { root, name: relative(roots[root]!, absolute) };
    }
    if (!isAbsolute(proto)) {
      const root = roots.findIndex((r) => existsSync(join(r, proto)));
      if (root >= 0) return { root, name: proto };
    }
    throw new PluginError(
      "PROTO_INVALID",
      `--proto ${proto} not found${importPaths.length > 0 ? ` (nor in ${importPaths.join(", ")})` : ""}`,
    );
  });
  return { roots, files };
}

async function compileProtos(flags: ProtoFlags): Promise<FileDescriptorProto[]> {
  const { roots, files } = locate(flags.proto ?? [], flags.importPath ?? []);
  const compiler = findProtoCompiler();
  if (compiler === undefined)
    throw new PluginError(
      "PROTO_COMPILER_MISSING",
      "--proto needs buf or protoc to compile the file, and neither is on PATH or in node_modules/.bin: install buf (`npm install --save-dev @bufbuild/buf`) or protoc, or pass a compiled --protoset FILE instead",
    );
  const work = await mkdtemp(join(tmpdir(), "plugwire-proto-"));
  try {
    const out = join(work, "out.binpb");
    let args: string[];
    if (compiler.kind === "buf") {
      // A buf workspace whose modules are the import paths (linked in, as module paths must be
      // inside the workspace), building only the files asked for and what they import.
      const workspace = join(work, "ws");
      await mkdir(workspace);
      const modules = roots.map((_, i) => `m${i}`);
      await Promise.all(roots.map((root, i) => symlink(root, join(workspace, modules[i]!))));
      await writeFile(
        join(workspace, "buf.yaml"),
        `version: v2\nmodules:\n${modules.map((m) => `  - path: ${m}\n`).join("")}`,
      );
      args = ["build", workspace, "--as-file-descriptor-set", "-o", out];
      for (const file of files)
        args.push("--path", join(workspace, modules[file.root]!, file.name));
    } else {
      args = [
        ...roots.map((root) => `-I${root}`),
        "--include_imports",
        `--descriptor_set_out=${out}`,
        ...files.map((file) => file.name),
      ];
    }
    await new Promise<void>((resolvePromise, reject) => {
      execFile(compiler.file, args, { cwd: work, timeout: 120_000 }, (error, _stdout, stderr) => {
        if (error === null) return resolvePromise();
        // buf names files by their path in the workspace: name them by the user's paths.
        let text = stderr.trim();
        roots.forEach((root, i) => {
          text = text.replaceAll(join(work, "ws", `m${i}`), root);
        });
        text = text.split("\n").slice(0, 20).join("\n");
        reject(
          new PluginError(
            "PROTO_INVALID",
            `${compiler.kind} could not compile ${(flags.proto ?? []).join(", ")}: ${text || error.message}`,
            { cause: error },
          ),
        );
      });
    });
    return fromBinary(FileDescriptorSetSchema, await readFile(out)).file;
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

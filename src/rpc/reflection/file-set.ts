import type { FileRegistry } from "@bufbuild/protobuf";
import { create, createFileRegistry } from "@bufbuild/protobuf";
import type { FileDescriptorProto } from "@bufbuild/protobuf/wkt";
import { FileDescriptorSetSchema } from "@bufbuild/protobuf/wkt";

/**
 * A registry of `files`, in whatever order they came (a registry needs each file after those it
 * imports). The first file of a name wins. Throws when an import is missing.
 */
export function fileRegistryOf(files: Iterable<FileDescriptorProto>): FileRegistry {
  const byName = new Map<string, FileDescriptorProto>();
  for (const file of files) if (!byName.has(file.name)) byName.set(file.name, file);
  const ordered: FileDescriptorProto[] = [];
  const done = new Set<string>();
  const visit = (file: FileDescriptorProto) => {
    if (done.has(file.name)) return;
    done.add(file.name);
    for (const name of file.dependency) {
      const dependency = byName.get(name);
      if (dependency !== undefined) visit(dependency);
    }
    ordered.push(file);
  };
  for (const file of byName.values()) visit(file);
  return createFileRegistry(create(FileDescriptorSetSchema, { file: ordered }));
}

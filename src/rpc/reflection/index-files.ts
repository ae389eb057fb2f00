import type {
  DescEnum,
  DescExtension,
  DescFile,
  DescMessage,
  DescService,
} from "@bufbuild/protobuf";

/**
 * What a reflection server can answer about: the files of a set of services and every file they
 * import, indexed by file name, by fully qualified symbol and by extension.
 */
export interface FileIndex {
  /** By file name as in the .proto import (`grpc/health/v1/health.proto`). */
  readonly files: ReadonlyMap<string, DescFile>;
  /** Services, methods, messages, fields, oneofs, enums, enum values and extensions. */
  readonly symbols: ReadonlyMap<string, DescFile>;
  /** Extensions by `extendee` type name, then by field number. */
  readonly extensions: ReadonlyMap<string, ReadonlyMap<number, DescFile>>;
}

/** Indexes the files defining `services`, with their transitive dependencies. */
export function indexFiles(services: Iterable<DescService>): FileIndex {
  const files = new Map<string, DescFile>();
  const symbols = new Map<string, DescFile>();
  const extensions = new Map<string, Map<number, DescFile>>();
  const addExtension = (file: DescFile, extension: DescExtension) => {
    symbols.set(extension.typeName, file);
    const byNumber = extensions.get(extension.extendee.typeName) ?? new Map<number, DescFile>();
    byNumber.set(extension.number, file);
    extensions.set(extension.extendee.typeName, byNumber);
  };
  const addEnum = (file: DescFile, scope: string, descEnum: DescEnum) => {
    symbols.set(descEnum.typeName, file);
    // Enum values are scoped like their enum's siblings (protobuf's C++ scoping rule).
    for (const value of descEnum.values) symbols.set(`${scope}${value.name}`, file);
  };
  const addMessage = (file: DescFile, message: DescMessage) => {
    symbols.set(message.typeName, file);
    for (const field of message.fields) symbols.set(`${message.typeName}.${field.name}`, file);
    for (const oneof of message.oneofs) symbols.set(`${message.typeName}.${oneof.name}`, file);
    for (const nested of message.nestedMessages) addMessage(file, nested);
    for (const nested of message.nestedEnums) addEnum(file, `${message.typeName}.`, nested);
    for (const nested of message.nestedExtensions) addExtension(file, nested);
  };
  const addFile = (file: DescFile) => {
    const name = file.proto.name;
    if (files.has(name)) return;
    files.set(name, file);
    const scope = file.proto.package === "" ? "" : `${file.proto.package}.`;
    for (const service of file.services) {
      symbols.set(service.typeName, file);
      for (const method of service.methods) symbols.set(`${service.typeName}.${method.name}`, file);
    }
    for (const message of file.messages) addMessage(file, message);
    for (const descEnum of file.enums) addEnum(file, scope, descEnum);
    for (const extension of file.extensions) addExtension(file, extension);
    for (const dependency of file.dependencies) addFile(dependency);
  };
  for (const service of services) addFile(service.file);
  return { files, symbols, extensions };
}

/** `file` first, then every file it imports, directly or not, each once. */
export function withDependencies(file: DescFile): DescFile[] {
  const out: DescFile[] = [];
  const seen = new Set<string>();
  const visit = (f: DescFile) => {
    if (seen.has(f.proto.name)) return;
    seen.add(f.proto.name);
    out.push(f);
    for (const dependency of f.dependencies) visit(dependency);
  };
  visit(file);
  return out;
}

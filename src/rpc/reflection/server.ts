import type { DescFile, DescService, MessageInitShape } from "@bufbuild/protobuf";
import { toBinary } from "@bufbuild/protobuf";
import { FileDescriptorProtoSchema } from "@bufbuild/protobuf/wkt";
import { GrpcStatus } from "../../errors/grpc-status.ts";
import type {
  ServerReflectionRequest,
  ServerReflectionResponseSchema,
} from "../../gen/grpc/reflection/v1/reflection_pb.js";
import { ServerReflection } from "../../gen/grpc/reflection/v1/reflection_pb.js";
import { ServerReflection as ServerReflectionAlpha } from "../../gen/grpc/reflection/v1alpha/reflection_pb.js";
import type { ServiceImpl, ServiceRegistration } from "../core/types.ts";
import { implement } from "../core/types.ts";
import type { FileIndex } from "./index-files.ts";
import { indexFiles, withDependencies } from "./index-files.ts";

type Response = MessageInitShape<typeof ServerReflectionResponseSchema>;

/**
 * gRPC server reflection, v1 and v1alpha (the same messages under two package names), as
 * grpc-go serves it in go-plugin's Go plugins. `services` is asked at the start of each
 * reflection stream, so it describes whatever the server has registered by then: pass
 * `() => rpcServer.services`.
 *
 * Answers `list_services`, `file_by_filename`, `file_containing_symbol` (services, methods,
 * messages, fields, enums, extensions), `file_containing_extension` and
 * `all_extension_numbers_of_type`. A file comes with every file it imports, directly or not.
 */
export function reflectionServices(
  services: () => Iterable<DescService>,
): ServiceRegistration<DescService>[] {
  const impl: ServiceImpl<typeof ServerReflection> = {
    async *serverReflectionInfo(requests) {
      const index = indexFiles(services());
      const names = [...services()].map((s) => s.typeName).sort();
      for await (const request of requests)
        yield {
          validHost: request.host,
          originalRequest: request,
          ...answer(index, names, request),
        };
    },
  };
  return [
    implement(ServerReflection, impl),
    // v1alpha's messages are v1's, field for field: the same handler serves both.
    implement(ServerReflectionAlpha, impl as unknown as ServiceImpl<typeof ServerReflectionAlpha>),
  ];
}

function answer(index: FileIndex, services: string[], request: ServerReflectionRequest): Response {
  const { case: kind, value } = request.messageRequest;
  switch (kind) {
    case "listServices":
      return {
        messageResponse: {
          case: "listServicesResponse",
          value: { service: services.map((name) => ({ name })) },
        },
      };
    case "fileByFilename":
      return files(index.files.get(value), `file ${JSON.stringify(value)} not found`);
    case "fileContainingSymbol":
      return files(
        index.symbols.get(value.replace(/^\./, "")),
        `symbol ${JSON.stringify(value)} not found`,
      );
    case "fileContainingExtension":
      return files(
        index.extensions.get(value.containingType)?.get(value.extensionNumber),
        `extension ${value.extensionNumber} of ${JSON.stringify(value.containingType)} not found`,
      );
    case "allExtensionNumbersOfType": {
      const typeName = value.replace(/^\./, "");
      if (!index.symbols.has(typeName))
        return error(GrpcStatus.NOT_FOUND, `type ${JSON.stringify(value)} not found`);
      const numbers = [...(index.extensions.get(typeName)?.keys() ?? [])].sort((a, b) => a - b);
      return {
        messageResponse: {
          case: "allExtensionNumbersResponse",
          value: { baseTypeName: typeName, extensionNumber: numbers },
        },
      };
    }
    default:
      return error(GrpcStatus.INVALID_ARGUMENT, "the request asks nothing (message_request unset)");
  }
}

function files(file: DescFile | undefined, notFound: string): Response {
  if (file === undefined) return error(GrpcStatus.NOT_FOUND, notFound);
  return {
    messageResponse: {
      case: "fileDescriptorResponse",
      value: {
        fileDescriptorProto: withDependencies(file).map((f) =>
          toBinary(FileDescriptorProtoSchema, f.proto),
        ),
      },
    },
  };
}

function error(code: number, message: string): Response {
  return {
    messageResponse: { case: "errorResponse", value: { errorCode: code, errorMessage: message } },
  };
}

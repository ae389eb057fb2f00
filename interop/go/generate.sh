#!/usr/bin/env bash
# Regenerates interop/go/gen/{kvpb,grpctestpb,fixturepb} from the repository's proto files.
# Idempotent: the output directories are replaced, so running it twice gives the same tree.
#
# Needs: Go (the two protoc plugins are installed from the Go module proxy at pinned versions into
# a private bin dir) and the buf binary from the repository's npm install.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
buf="$root/node_modules/.bin/buf"
module="plugwire.dev/interop"

# Pinned generator versions. protoc-gen-go matches the google.golang.org/protobuf in go.mod, so
# the generated code and the runtime library agree.
protoc_gen_go_version="v1.36.12"
protoc_gen_go_grpc_version="v1.6.2"

if [[ ! -x "$buf" ]]; then
  echo "generate.sh: $buf not found; run 'npm ci' in $root first" >&2
  exit 1
fi

# A bin dir outside the repository keeps the work tree clean and survives between runs.
bin="${PLUGWIRE_GO_BIN:-${XDG_CACHE_HOME:-$HOME/.cache}/plugwire-interop-go/bin}"
mkdir -p "$bin"
GOBIN="$bin" go install "google.golang.org/protobuf/cmd/protoc-gen-go@$protoc_gen_go_version"
GOBIN="$bin" go install "google.golang.org/grpc/cmd/protoc-gen-go-grpc@$protoc_gen_go_grpc_version"

# generate <proto dir, relative to the repo root> <proto file> <go package dir under gen/>
generate() {
  local proto_dir="$1" file="$2" pkg="$3"
  local import_path="$module/gen/$pkg"
  rm -rf "$here/gen/$pkg"
  # The protos' own go_package options ("./proto" etc.) are relative placeholders, so an M
  # mapping assigns the real import path; module= strips the module prefix from output paths.
  local template
  template=$(cat <<JSON
{"version":"v2","plugins":[
  {"local":"$bin/protoc-gen-go","out":"interop/go","opt":["module=$module","M$file=$import_path;$pkg"]},
  {"local":"$bin/protoc-gen-go-grpc","out":"interop/go","opt":["module=$module","M$file=$import_path;$pkg"]}
]}
JSON
)
  (cd "$root" && "$buf" generate "$proto_dir" --path "$proto_dir/$file" --template "$template")
  echo "generated interop/go/gen/$pkg from $proto_dir/$file"
}

generate examples/kv/proto kv.proto kvpb
generate test/fixtures/proto grpctest.proto grpctestpb
generate test/fixtures/proto fixture.proto fixturepb

#!/usr/bin/env bash
# Regenerates the committed Python stubs in gen/ from the repository's .proto files.
# This is the one regeneration command; run it after changing any of the protos below:
#   examples/kv/proto/kv.proto
#   proto/plugin/grpc_controller.proto, grpc_stdio.proto, grpc_broker.proto
#
# Needs grpcio-tools of the same version as the pinned grpcio, e.g.:
#   python3 -m pip install grpcio-tools==1.85.1
# Set PYTHON to choose the interpreter (default: python3).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../../.." && pwd)"
python="${PYTHON:-python3}"
out="$here/gen"

"$python" - <<'PY'
import sys
from importlib.metadata import version
want = "1.85.1"
got = version("grpcio-tools")
if got != want:
    sys.exit(f"generate.sh: grpcio-tools {got} found, {want} expected (match grpcio in requirements.txt)")
PY

rm -f "$out"/*_pb2.py "$out"/*_pb2_grpc.py "$out"/*_pb2.pyi
mkdir -p "$out"

# Flat include paths, so the modules are top-level (kv_pb2, grpc_stdio_pb2, ...) inside gen/;
# plugin.py puts gen/ on sys.path. google/protobuf/empty.proto comes with grpcio-tools.
"$python" -m grpc_tools.protoc \
  -I "$root/examples/kv/proto" \
  --python_out="$out" --pyi_out="$out" --grpc_python_out="$out" \
  kv.proto
"$python" -m grpc_tools.protoc \
  -I "$root/proto/plugin" \
  --python_out="$out" --pyi_out="$out" --grpc_python_out="$out" \
  grpc_controller.proto grpc_stdio.proto grpc_broker.proto

echo "generated: $(cd "$out" && ls *.py *.pyi | tr '\n' ' ')"

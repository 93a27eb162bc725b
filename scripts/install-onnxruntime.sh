#!/usr/bin/env bash
# Installs ONNX Runtime's CPU library for mnistfc's optional onnx backend
# (`make onnxruntime`). It takes libonnxruntime.so.1 from the npm package
# onnxruntime-node (pinned version; npm checks the package's integrity, and
# this script the library's SHA-256) and copies it to
# $ONNXRUNTIME_DIR/libonnxruntime.so, by default ~/.local/lib/onnxruntime/,
# where `-backend onnx` looks for it. Linux x86-64 only. Needs npm.
set -euo pipefail

VERSION=1.30.0
SHA256=ffb75a925ba05e47b235bb66e3e3911714a80b328a9c9425539feb204aa32a23
DIR=${ONNXRUNTIME_DIR:-$HOME/.local/lib/onnxruntime}
LIB=$DIR/libonnxruntime.so
STAMP=$DIR/mnistfc-installed-from

die() { echo "install-onnxruntime: $*" >&2; exit 1; }

[ "$(uname -s)/$(uname -m)" = "Linux/x86_64" ] || die "only Linux x86-64 is supported (this is $(uname -s)/$(uname -m))"
if [ -f "$LIB" ] && [ "$(cat "$STAMP" 2>/dev/null)" = "onnxruntime-node@$VERSION" ] \
   && [ "$(sha256sum "$LIB" | cut -d' ' -f1)" = "$SHA256" ]; then
  echo "install-onnxruntime: $LIB (onnxruntime-node@$VERSION) is installed"
  exit 0
fi
command -v npm >/dev/null || die "npm not found: install Node.js (apt-get install -y nodejs npm)"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
echo "install-onnxruntime: npm pack onnxruntime-node@$VERSION" >&2
(cd "$tmp" && npm pack --silent "onnxruntime-node@$VERSION" >/dev/null) \
  || die "npm pack onnxruntime-node@$VERSION failed (is the npm registry reachable?)"
member=package/bin/napi-v6/linux/x64/libonnxruntime.so.1
tar -xzf "$tmp/onnxruntime-node-$VERSION.tgz" -C "$tmp" "$member" \
  || die "$member is not in onnxruntime-node-$VERSION.tgz"
got=$(sha256sum "$tmp/$member" | cut -d' ' -f1)
[ "$got" = "$SHA256" ] || die "$member has SHA-256 $got, want $SHA256"
mkdir -p "$DIR"
install -m 0644 "$tmp/$member" "$LIB"
echo "onnxruntime-node@$VERSION" > "$STAMP"
echo "install-onnxruntime: installed $LIB (ONNX Runtime from onnxruntime-node@$VERSION)"
if [ "$DIR" != "$HOME/.local/lib/onnxruntime" ]; then
  echo "install-onnxruntime: not the default folder: run with -backend onnx:$LIB (or ONNXRUNTIME_SHARED_LIBRARY_PATH=$LIB)"
fi

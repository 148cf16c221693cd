#!/usr/bin/env bash
# Obtains libllama (and libggml*, the CPU-variant backends) of one llama.cpp release from the npm package
# @node-llama-cpp/linux-x64@VERSION, through the npm client and its configured registry. Run by the build
# (llama-cpp/pom.xml, generate-resources); reuses DIR if it already holds the release.
#
# usage: fetch-libllama.sh VERSION RELEASE DIR [VARIANT]
#   e.g. fetch-libllama.sh 3.22.1 v0.5.0 ~/.cache/bunshin/llama.cpp/3.22.1
#        fetch-libllama.sh 3.22.1 v0.5.0 ~/.cache/bunshin/llama.cpp/3.22.1/vulkan vulkan   (the Vulkan build, for the
#        test that runs a stage on Vulkan: libllama.vulkan.v0.5.0.so)
set -euo pipefail
VERSION="$1"; RELEASE="$2"; DIR="$3"; VARIANT="${4:-}"
LIB="$DIR/lib"
NAME="libllama.${VARIANT:+$VARIANT.}$RELEASE.so"
if [ -f "$LIB/$NAME" ] && [ -f "$LIB/.complete" ]; then exit 0; fi

case "$(uname -s)-$(uname -m)" in
  Linux-x86_64) PKG="@node-llama-cpp/linux-x64" ;;
  Linux-aarch64) PKG="@node-llama-cpp/linux-arm64" ;;
  *) echo "fetch-libllama: no prebuilt libllama for $(uname -s)-$(uname -m); point -Dbunshin.llama.lib (or BUNSHIN_LLAMA_LIB) at a libllama of release $RELEASE" >&2; exit 0 ;;
esac
PKG="$PKG${VARIANT:+-$VARIANT}"
if ! command -v npm >/dev/null 2>&1; then
  echo "fetch-libllama: npm not found: cannot obtain $PKG@$VERSION (llama.cpp $RELEASE); the llama.cpp backend will be unavailable" >&2
  exit 0
fi
mkdir -p "$DIR"
TMP="$(mktemp -d "$DIR/.fetch.XXXXXX")"
trap 'rm -rf "$TMP"' EXIT
if ! (cd "$TMP" && npm pack --silent "$PKG@$VERSION" >/dev/null); then
  if [ -n "$VARIANT" ]; then # only VulkanStageTest needs a GPU build: the build goes on without it
    echo "fetch-libllama: could not obtain $PKG@$VERSION; the $VARIANT build will be unavailable" >&2
    exit 0
  fi
  echo "fetch-libllama: npm pack $PKG@$VERSION failed" >&2
  exit 1
fi
tar xzf "$TMP"/*.tgz -C "$TMP"
SRC="$(dirname "$(find "$TMP/package" -name "$NAME" | head -1)")"
if [ ! -f "$SRC/$NAME" ]; then
  echo "fetch-libllama: $PKG@$VERSION holds no $NAME" >&2; exit 1
fi
rm -rf "$LIB"; mkdir -p "$LIB"
cp "$SRC"/libllama*.so "$SRC"/libggml*.so "$LIB"/
[ -f "$SRC/_nlcBuildMetadata.json" ] && cp "$SRC/_nlcBuildMetadata.json" "$LIB"/
echo "$PKG@$VERSION $RELEASE" > "$LIB/.complete"
echo "fetch-libllama: llama.cpp $RELEASE ($PKG@$VERSION) in $LIB" >&2

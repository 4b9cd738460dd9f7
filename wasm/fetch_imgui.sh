#!/usr/bin/env bash
# Fetches Dear ImGui's sources (core + backends) from Debian's *source* package
# `imgui` into DEST (a build folder), for wasm/CMakeLists.txt at configure time.
#
# Debian's binary libimgui-dev has no imgui.cpp, so we ask apt for the source
# package. The machine's apt sources usually carry only `deb` lines, so this
# script builds a private apt configuration (inside DEST) with one `deb-src`
# line for the *same archive URI and suite* the machine already uses, read from
# /etc/apt/sources.list.d/debian.sources (deb822) or /etc/apt/sources.list.
# Nothing outside DEST is written; no host name is hard-coded.
#
# Usage: fetch_imgui.sh DEST          -> DEST/imgui/{imgui.cpp,backends/...}
set -euo pipefail
DEST=${1:?usage: fetch_imgui.sh DEST}
mkdir -p "$DEST"
DEST=$(cd "$DEST" && pwd)
if [ -f "$DEST/imgui/imgui.cpp" ] && [ -f "$DEST/imgui/backends/imgui_impl_glfw.cpp" ]; then
  echo "fetch_imgui: already present in $DEST/imgui"; exit 0
fi

uri=""; suite=""
if [ -f /etc/apt/sources.list.d/debian.sources ]; then
  # first stanza with Types containing deb: its first URI and first suite
  read -r uri suite < <(awk '
    /^[[:space:]]*$/ { if (t ~ /deb/ && u != "" && s != "") { print u, s; exit } t=u=s=""; next }
    /^Types:/  { t=$0 }
    /^URIs:/   { u=$2 }
    /^Suites:/ { s=$2 }
    END { if (t ~ /deb/ && u != "" && s != "") print u, s }' /etc/apt/sources.list.d/debian.sources) || true
fi
if [ -z "$uri" ] && [ -f /etc/apt/sources.list ]; then
  read -r uri suite < <(awk '$1 == "deb" && $0 !~ /security/ { for (i = 2; i <= NF; i++) if ($i !~ /^\[/ && $i !~ /\]$/) { print $i, $(i+1); exit } }' /etc/apt/sources.list) || true
fi
if [ -z "$uri" ] || [ -z "$suite" ]; then
  echo "fetch_imgui: ERROR: could not read an archive URI from /etc/apt/sources.list.d/debian.sources or /etc/apt/sources.list" >&2
  exit 1
fi

APT="$DEST/apt"
mkdir -p "$APT/lists/partial" "$APT/archives/partial" "$APT/etc/preferences.d" "$APT/src"
echo "deb-src $uri $suite main" > "$APT/etc/sources.list"
cat > "$APT/apt.conf" <<CONF
Dir::Etc::sourcelist "$APT/etc/sources.list";
Dir::Etc::sourceparts "-";
Dir::Etc::preferencesparts "$APT/etc/preferences.d";
Dir::State::Lists "$APT/lists";
Dir::Cache "$APT/cache";
Dir::Cache::archives "$APT/archives";
APT::Sandbox::User "root";
CONF
mkdir -p "$APT/cache"
echo "fetch_imgui: apt source list: deb-src $uri $suite main (private config in $APT)"
export APT_CONFIG="$APT/apt.conf"
if ! apt-get -q update >"$APT/update.log" 2>&1; then
  cat "$APT/update.log" >&2
  echo "fetch_imgui: ERROR: apt-get update with the private deb-src list failed (network? archive URI $uri)" >&2
  exit 1
fi
cd "$APT/src"
if ! apt-get -q source --download-only imgui >"$APT/source.log" 2>&1; then
  cat "$APT/source.log" >&2
  echo "fetch_imgui: ERROR: 'apt-get source imgui' failed; see above" >&2
  exit 1
fi
rm -rf "$DEST/imgui.tmp"; mkdir -p "$DEST/imgui.tmp"
orig=$(ls imgui_*.orig.tar.* | head -n1)
tar -xf "$orig" -C "$DEST/imgui.tmp"
top=$(find "$DEST/imgui.tmp" -name imgui.cpp -printf '%h\n' | head -n1)
if [ -z "$top" ] || [ ! -f "$top/backends/imgui_impl_glfw.cpp" ]; then
  echo "fetch_imgui: ERROR: $orig has no imgui.cpp / backends/imgui_impl_glfw.cpp" >&2
  exit 1
fi
rm -rf "$DEST/imgui"; mv "$top" "$DEST/imgui"; rm -rf "$DEST/imgui.tmp"
ls imgui_*.dsc > "$DEST/imgui/DEBIAN_SOURCE_VERSION"
echo "fetch_imgui: Dear ImGui from $(cat "$DEST/imgui/DEBIAN_SOURCE_VERSION") in $DEST/imgui"

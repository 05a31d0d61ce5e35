#!/bin/bash
# Runs inside the builder image: picks buildpacks (BUILDPACK_URL, .buildpacks, else the first built-in
# whose bin/detect says yes), runs bin/compile and bin/release, and leaves their verdict in /build-result.
set -euo pipefail
BUILD_DIR=/app CACHE_DIR=/cache ENV_DIR=/env
mkdir -p /build-result "$CACHE_DIR" "$ENV_DIR"

fetch_buildpack() { # URL or built-in name → directory
  local spec=$1 dir
  if [ -d "/buildpacks/$spec" ]; then echo "/buildpacks/$spec"; return; fi
  dir=$(mktemp -d /tmp/buildpack.XXXXXX)
  local url=${spec%%#*} ref=
  [ "$url" != "$spec" ] && ref=${spec#*#}
  echo "-----> Fetching buildpack $url" >&2
  git clone --quiet --depth 1 ${ref:+--branch "$ref"} -- "$url" "$dir" >&2 || { echo " !     could not fetch buildpack $spec" >&2; exit 1; }
  chmod +x "$dir"/bin/* 2>/dev/null || true
  echo "$dir"
}

buildpacks=()
if [ -n "${BUILDPACK_URL:-}" ]; then
  buildpacks+=("$(fetch_buildpack "$BUILDPACK_URL")")
elif [ -f "$BUILD_DIR/.buildpacks" ]; then
  while read -r spec; do
    spec=${spec%%#*}; spec=$(echo "$spec" | xargs)
    [ -n "$spec" ] && buildpacks+=("$(fetch_buildpack "$spec")")
  done < "$BUILD_DIR/.buildpacks"
else
  for bp in nodejs python static procfile; do
    if name=$(/buildpacks/$bp/bin/detect "$BUILD_DIR" 2>/dev/null); then
      buildpacks+=("/buildpacks/$bp")
      break
    fi
  done
fi
if [ ${#buildpacks[@]} -eq 0 ]; then
  echo " !     No buildpack detected this app: add a package.json, requirements.txt, index.html, Procfile or Dockerfile" >&2
  exit 1
fi

names=()
for bp in "${buildpacks[@]}"; do
  name=$("$bp/bin/detect" "$BUILD_DIR" 2>/dev/null || basename "$bp")
  names+=("$name")
  echo "-----> $name app detected"
  "$bp/bin/compile" "$BUILD_DIR" "$CACHE_DIR" "$ENV_DIR"
  if [ -x "$bp/bin/release" ]; then "$bp/bin/release" "$BUILD_DIR" > /build-result/release.yml; fi
done
(IFS=,; echo "${names[*]}") > /build-result/buildpack
chown -R 1000:1000 "$BUILD_DIR"

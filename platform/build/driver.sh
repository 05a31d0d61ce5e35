#!/bin/bash
# Runs inside the builder image (after `tar -x -i -C /` has unpacked the buildpacks, this script, the
# config as env/KEY files and the source as app/ from stdin): picks buildpacks (BUILDPACK_URL, .buildpacks, else the first built-in
# whose bin/detect says yes), runs bin/compile and bin/release, and leaves their verdict in /build-result.
set -euo pipefail
BUILD_DIR=/app CACHE_DIR=/cache ENV_DIR=/env
mkdir -p /build-result "$CACHE_DIR" "$ENV_DIR"
BUILDPACK_URL=$(cat "$ENV_DIR/BUILDPACK_URL" 2>/dev/null || true)

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

# Slug layers: the big directories that rarely change (a runtime, installed dependencies) move to
# /layers/N/app/DIR, each to become an image layer of its own that the next build reuses while its
# fingerprint holds: every file's name, size, mtime, mode and owner (rsync's quick check), every
# other entry's name, type, mode, owner and link target (a buildpack recreates its directories and
# symlinks on each build). /build-result/layers lists "N FINGERPRINT DIR" in stacking order.
n=0
for dir in .heroku node_modules .venv; do
  [ -d "$BUILD_DIR/$dir" ] && [ ! -L "$BUILD_DIR/$dir" ] || continue
  mkdir -p "/layers/$n/app"
  chown 1000:1000 "/layers/$n/app"
  mv "$BUILD_DIR/$dir" "/layers/$n/app/"
  fingerprint=$(cd "/layers/$n/app" && {
    find . -type f -printf '%P f %s %T@ %m %U\0'
    find . ! -type f -printf '%P %y %m %U %l\0'
  } | LC_ALL=C sort -z | sha256sum | cut -c1-32)
  echo "$n $fingerprint $dir" >> /build-result/layers
  n=$((n + 1))
done

# The verdict goes back as the last line of output (the platform takes it out of the build log):
# cheaper than copying /build-result out of the stopped container.
echo "@@paas-build-result@@ $(tar -c -C / build-result | base64 -w0)"

#!/bin/bash
# Runs inside the builder image (after `tar -x -i -C /` has unpacked the buildpacks, this script, the
# config as env/KEY files and the source as app/ from stdin): picks buildpacks (BUILDPACK_URL, .buildpacks, else the first built-in
# whose bin/detect says yes), runs bin/compile and bin/release, and leaves their verdict in /build-result.
set -euo pipefail
BUILD_DIR=/app CACHE_DIR=/cache ENV_DIR=/env SLUG=/app/.paas-slug
mkdir -p /build-result "$CACHE_DIR" "$ENV_DIR"
if [ -e "$SLUG" ]; then
  echo " !     ${SLUG#/app/} is reserved for the platform's own use: remove it from the repository" >&2
  exit 1
fi
BUILDPACK_URL=
[ -f "$ENV_DIR/BUILDPACK_URL" ] && read -r BUILDPACK_URL < "$ENV_DIR/BUILDPACK_URL" || true

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

buildpacks=() names=()
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
      buildpacks+=("/buildpacks/$bp") names+=("$name")
      break
    fi
  done
fi
if [ ${#buildpacks[@]} -eq 0 ]; then
  echo " !     No buildpack detected this app: add a package.json, requirements.txt, index.html, Procfile or Dockerfile" >&2
  exit 1
fi

for i in "${!buildpacks[@]}"; do
  bp=${buildpacks[$i]}
  [ -n "${names[$i]:-}" ] || names[$i]=$("$bp/bin/detect" "$BUILD_DIR" 2>/dev/null || basename "$bp")
  name=${names[$i]}
  echo "-----> $name app detected"
  "$bp/bin/compile" "$BUILD_DIR" "$CACHE_DIR" "$ENV_DIR"
  if [ -x "$bp/bin/release" ]; then "$bp/bin/release" "$BUILD_DIR" > /build-result/release.yml; fi
done
(IFS=,; echo "${names[*]}") > /build-result/buildpack

# The slug is taken apart inside BUILD_DIR (a directory of the build cache's volume, builders.ts):
# moves are renames, not copies. $SLUG/N/app holds the big directories that rarely change (a runtime, installed
# dependencies), each to become an image layer of its own that the next build reuses while its
# fingerprint holds: every file's name, size, mtime, mode and owner (rsync's quick check), every
# other entry's name, type, mode, owner and link target (a buildpack recreates its directories and
# symlinks on each build). $SLUG/rest/app is everything else, the top layer. /build-result/layers
# lists "N FINGERPRINT SHAPE DIR" in stacking order. (platform/build/slug-image.ts reads these paths.)
layers=()
for dir in .heroku node_modules .venv; do
  [ -d "$BUILD_DIR/$dir" ] && [ ! -L "$BUILD_DIR/$dir" ] || continue
  mkdir -p "$SLUG/${#layers[@]}/app"
  mv "$BUILD_DIR/$dir" "$SLUG/${#layers[@]}/app/"
  layers+=("$dir")
done
mkdir -p "$SLUG/rest/app"
find "$BUILD_DIR/" -mindepth 1 -maxdepth 1 ! -name "${SLUG##*/}" -exec mv -t "$SLUG/rest/app/" {} +
chown -R 1000:1000 "$SLUG"
# The same without file times is the layer's shape: two apps' builds of the same files (the same
# runtime, the same locked dependencies) share it, and the platform compares their contents then.
shape_list=$(mktemp)
for n in "${!layers[@]}"; do
  fingerprint=$(cd "$SLUG/$n/app" &&
    find . -type f -printf '%P f %s %T@ %m %U\0' -fprintf "$shape_list" '%P f %s %m %U\0' \
      -o -printf '%P %y %m %U %l\0' -fprintf "$shape_list" '%P %y %m %U %l\0' | LC_ALL=C sort -z | sha256sum | cut -c1-32)
  shape=$(LC_ALL=C sort -z "$shape_list" | sha256sum | cut -c1-32)
  echo "$n $fingerprint $shape ${layers[$n]}" >> /build-result/layers
done
rm -f "$shape_list"

# A small top layer (most apps' own files) goes back with the verdict: reading it out of the
# builder through the engine costs ~0.3 s whatever its size.
if [ "$(du -sb "$SLUG/rest/app" | cut -f1)" -le $((4 * 1024 * 1024)) ]; then
  tar -c -C "$SLUG/rest" app > /build-result/app.tar
fi

# The verdict goes back as the last line of output (the platform takes it out of the build log):
# cheaper than copying /build-result out of the stopped container.
echo "@@paas-build-result@@ $(tar -c -C / build-result | base64 -w0)"
# Then wait to be removed (builders.recycle, once the push is over) instead of exiting: the engine's
# clean-up of an exited container (network, mounts) would compete with the run image's commit and
# the new web container's start. Bounded, should the platform never come back for it.
exec sleep 900

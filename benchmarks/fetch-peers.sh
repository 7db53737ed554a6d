#!/usr/bin/env bash
# Fetch the peer baseline's sources (tflite-micro with CMSIS-NN and the third-party code its
# Makefile would download) at pinned commits into a cache folder outside the repository:
#
#   bash benchmarks/fetch-peers.sh [DIR]     (default: $TINYGEN_PEERS_DIR or ~/.cache/tinygen/peers)
#
# Layout: DIR/tflite-micro is tflite-micro's tree, with CMSIS-NN, CMSIS 6 (+ Cortex_DFP),
# flatbuffers, gemmlowp and ruy where its Makefile looks for its downloads
# (tensorflow/lite/micro/tools/make/downloads/<name>), prepared as its download scripts prepare
# them, so the Makefile builds offline. TINYGEN_PEERS_GIT ("https://github.com/{repo}.git" by
# default) says where to clone from: any git URL or local repository path with {repo} (owner/name)
# or {owner} and {name} in it. Run it again to refetch: it replaces DIR/tflite-micro.
set -euo pipefail

DIR=${1:-${TINYGEN_PEERS_DIR:-$HOME/.cache/tinygen/peers}}
GITHUB='https://github.com/{repo}.git'
SOURCE=${TINYGEN_PEERS_GIT:-$GITHUB}

# name (folder under downloads/), repository, commit or tag: the versions tflite-micro's
# download scripts pin at its commit below.
TFLM_COMMIT=90b983c2b3f1480642e040bbd2ddb37b998f3424
PINS=(
    "cmsis_nn ARM-software/CMSIS-NN 4ab83cc3cc98fb85ed6dafb55e8ca02f1628dcae"
    "cmsis ARM-software/CMSIS_6 5782d6f8057906d360f4b95ec08a2354afe5c9b9"
    "cmsis/Cortex_DFP ARM-software/Cortex_DFP c2c70a97a20fb355815e2ead3d4a40e35a4a3cdf"
    "flatbuffers google/flatbuffers v25.9.23"
    "gemmlowp google/gemmlowp 719139ce755a0f31cbf1c37f7f98adcc7fc9f425"
    "ruy google/ruy d37128311b445e758136b8602d1bbd2a755e115d"
)

url() {
    local repo=$1 u=$SOURCE
    u=${u//\{repo\}/$repo}
    u=${u//\{owner\}/${repo%%/*}}
    echo "${u//\{name\}/${repo#*/}}"
}

# Export REPO at REV (a commit or a tag) into DEST, without history.
export_tree() {
    local repo=$1 rev=$2 dest=$3 tmp
    tmp=$(mktemp -d)
    echo "fetching $repo at $rev" >&2
    git init -q --bare "$tmp"
    local commit
    if git -C "$tmp" fetch -q --depth 1 "$(url "$repo")" "$rev" 2>/dev/null; then
        commit=$(git -C "$tmp" rev-parse --verify "FETCH_HEAD^{commit}")
    else # a server that serves no single commit: fetch everything
        git -C "$tmp" fetch -q "$(url "$repo")" "+refs/heads/*:refs/heads/*" "+refs/tags/*:refs/tags/*"
        commit=$(git -C "$tmp" rev-parse --verify "$rev^{commit}")
    fi
    if [[ "$rev" =~ ^[0-9a-f]{40}$ && "$commit" != "$rev" ]]; then
        echo "$repo: got $commit, not $rev" >&2
        exit 1
    fi
    mkdir -p "$dest"
    git -C "$tmp" archive "$commit" | tar -x -C "$dest"
    rm -rf "$tmp"
}

mkdir -p "$DIR"
TFLM=$DIR/tflite-micro
rm -rf "$TFLM.part"
export_tree tensorflow/tflite-micro "$TFLM_COMMIT" "$TFLM.part"
DOWNLOADS=$TFLM.part/tensorflow/lite/micro/tools/make/downloads
for pin in "${PINS[@]}"; do
    read -r name repo rev <<<"$pin"
    export_tree "$repo" "$rev" "$DOWNLOADS/$name"
done

# What flatbuffers_download.sh does after its download: drop Bazel files, apply TFLM's patch.
find "$DOWNLOADS/flatbuffers" \( -name BUILD -o -name BUILD.bazel \) -delete
git apply --ignore-space-change --ignore-whitespace --directory="$DOWNLOADS/flatbuffers" --unsafe-paths \
    "$TFLM.part/tensorflow/lite/micro/tools/make/flatbuffers.patch"
# The Makefile clones pigweed (used by tflite-micro's own tests only) when it parses; an empty
# folder stands in for it. kissfft (signal ops only) is not fetched: peers.py leaves the signal
# kernels out of the library.
mkdir -p "$DOWNLOADS/pigweed"

rm -rf "$TFLM"
mv "$TFLM.part" "$TFLM"
echo "$TFLM_COMMIT" >"$TFLM/.tinygen-pinned"
echo "peers ready in $DIR" >&2

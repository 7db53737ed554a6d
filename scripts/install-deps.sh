#!/usr/bin/env bash
# Installs what tinygen's emulated-board path and its tests need on Debian/Ubuntu: the host C and C++
# compilers, CMake, the Arm GNU toolchain, newlib and its libstdc++, QEMU, clang-format and espeak-ng (a
# spoken word for the audio front end's tests) (apt), then tinygen with its test extra into a virtual
# environment, .venv/ (Debian's own Python refuses system-wide pip installs).
# Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(gcc g++ libc6-dev cmake gcc-arm-none-eabi libnewlib-arm-none-eabi libstdc++-arm-none-eabi-newlib
  qemu-system-arm clang-format espeak-ng git)
if ! command -v python3 >/dev/null || ! python3 -c "import venv, ensurepip" 2>/dev/null; then
  APT_PACKAGES+=(python3 python3-venv python3-pip)
fi
missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  echo "installing ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/python -m pip install -q --disable-pip-version-check -e '.[test]'

#!/usr/bin/env bash
# Makes sure the Debian packages the test suite needs are installed; `npm test` runs it first.
#
#   nothing missing          -> prints nothing, exits 0 (no apt call)
#   missing, running as root -> one `apt-get update`, one `apt-get install -y ...`, exits with apt's status
#   missing, not root        -> names the packages and the one sudo line that installs them, exits 1
#
# The list lives in .ci/apt-packages: package names, then an optional '# why' comment.
set -euo pipefail

list="${LIVESTATS_APT_PACKAGES:-$(dirname "$0")/../.ci/apt-packages}"
if [ ! -r "$list" ]; then
  echo "system-deps: cannot read the package list $list" >&2
  exit 1
fi

missing=()
reasons=()
while IFS= read -r line || [ -n "$line" ]; do
  names="${line%%#*}"
  why=""
  case "$line" in *'#'*) why="${line#*#}"; why="${why# }" ;; esac
  for pkg in $names; do
    if ! command -v dpkg-query >/dev/null 2>&1; then
      missing+=("$pkg"); reasons+=("$why"); continue
    fi
    status="$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)"
    if [ "$status" != "install ok installed" ]; then
      missing+=("$pkg"); reasons+=("$why")
    fi
  done
done < "$list"

[ ${#missing[@]} -eq 0 ] && exit 0

if ! command -v dpkg-query >/dev/null 2>&1 || ! command -v apt-get >/dev/null 2>&1; then
  echo "system-deps: the full test suite needs a Debian-family system (dpkg and apt-get) with: ${missing[*]}" >&2
  exit 1
fi

echo "system-deps: the tests need ${#missing[@]} Debian package(s) that are not installed:"
for i in "${!missing[@]}"; do
  printf '  %-20s %s\n' "${missing[$i]}" "${reasons[$i]}"
done

if [ "$(id -u)" != "0" ]; then
  echo "system-deps: not running as root, so not installing them. Install them with:" >&2
  echo "  sudo apt-get install -y ${missing[*]}" >&2
  echo "then run the test command again." >&2
  exit 1
fi

echo "system-deps: installing them now (apt-get update, then apt-get install; the first run takes a few minutes)"
apt-get update
DEBIAN_FRONTEND=noninteractive apt-get install -y "${missing[@]}"
echo "system-deps: installed ${missing[*]}"

#!/usr/bin/env bash
# Builds the Debian package from a copy of the source tree (debian/rules
# clean would otherwise remove the developer's build/), checks it with
# lintian (no errors allowed), and puts seinpost_*.deb into OUT.
#   tests/package/build.sh OUT
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
OUT=${1:?usage: build.sh OUT}
case $OUT in /*) ;; *) OUT="$ROOT/$OUT" ;; esac
WORK=$(mktemp -d "${TMPDIR:-/tmp}/sp-pkg-XXXXXX")
trap 'rm -rf "$WORK"' EXIT
mkdir -p "$WORK/seinpost" "$OUT"

cd "$ROOT"
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
	# Tracked files and new ones not ignored: what the next commit would hold.
	git ls-files -z --cached --others --exclude-standard | xargs -0 -I{} sh -c '[ -e "{}" ] || [ -L "{}" ] && printf "%s\0" "{}"' \
		| tar --null -T - -cf - | tar -xf - -C "$WORK/seinpost"
else
	tar --exclude='./build*' --exclude='./demo' -cf - . | tar -xf - -C "$WORK/seinpost"
fi

cd "$WORK/seinpost"
t0=$SECONDS
DEB_BUILD_OPTIONS="nocheck parallel=$(nproc)" dpkg-buildpackage -us -uc -b >"$WORK/build.log" 2>&1 || {
	tail -n 60 "$WORK/build.log"; echo "package: dpkg-buildpackage failed"; exit 1; }
echo "package: dpkg-buildpackage -us -uc -b took $((SECONDS - t0)) s"
deb=$(ls "$WORK"/seinpost_*.deb)
# lintian: errors fail the build; warnings are shown.
lintian --fail-on error --tag-display-limit 0 "$WORK"/seinpost_*.changes | tee "$WORK/lintian.log" || {
	echo "package: lintian reports errors"; exit 1; }
echo "package: lintian: $(grep -c '^E:' "$WORK/lintian.log" || true) errors, $(grep -c '^W:' "$WORK/lintian.log" || true) warnings"
rm -f "$OUT"/seinpost_*.deb
cp "$deb" "$OUT/"
echo "package: $OUT/$(basename "$deb")"

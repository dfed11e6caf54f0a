#!/bin/sh
# Checks the systemd units with `systemd-analyze verify` as they would be installed, with the
# paths they name pointed at this checkout (/opt/edp), the example environment file and the
# current user. A warning fails too. Exit 77 when systemd-analyze is not there.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
if ! command -v systemd-analyze >/dev/null 2>&1; then
  echo "systemd-analyze not found: the units were not verified" >&2
  exit 77
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
user=$(id -un)
group=$(id -gn)
for unit in "$root"/deploy/systemd/*.service; do
  sed -e "s#/opt/edp#$root#g" -e "s#/etc/edp/edp.env#$root/deploy/systemd/edp.env.example#" \
      -e "s#^User=edp#User=$user#" -e "s#^Group=edp#Group=$group#" "$unit" > "$tmp/$(basename "$unit")"
done
cp "$tmp/edp-worker@.service" "$tmp/edp-worker@1.service" # a template is checked through an instance
if ! out=$(cd "$tmp" && systemd-analyze verify --man=no ./edp-migrate.service ./edp-web.service ./edp-worker@1.service 2>&1) || [ -n "$out" ]; then
  echo "$out" >&2
  exit 1
fi
echo "systemd units verified: edp-migrate.service edp-web.service edp-worker@.service"

#!/usr/bin/env bash
# install-tools.sh - put the external tools monstack drives into .tools/bin:
#   promtool, prometheus (Prometheus 3.5.x LTS), amtool, alertmanager (0.33.x),
#   docker-compose (2.40.x); with --exporters also node_exporter,
#   postgres_exporter, redis_exporter, mysqld_exporter, nginx_exporter
#   (nginx-prometheus-exporter), blackbox_exporter and pushgateway (no version
#   gate; the metrics contract and tests/test_catalogue.py run them); with
#   --victoriametrics also vmalert, vmalert-tool and victoria-metrics (1.145.x,
#   one 57 MB package: `monstack validate` runs `vmalert -dryRun`, `monstack test
#   --engine vmalert` runs vmalert-tool; make and .ci/run pass the flag).
#   Debian's VictoriaMetrics binaries print no version, so theirs is read from
#   the package's changelog.Debian.gz beside them (monstack does the same).
# Why Debian sid: it carries these versions as ordinary packages, while
# bookworm's are far too old (promtool 2.42, alertmanager 0.25, compose 1.x).
# How: a private apt setup under .tools/apt (own lists, cache, status and
# sources; the system's sources and preferences are not read, only its
# apt.conf.d network settings) fetches the sid .debs from the Debian mirror
# that this machine's own apt configuration names, verified against the
# system's Debian archive keyring; `dpkg -x` unpacks them into .tools/root and
# .tools/bin gets symlinks. Nothing is installed into the system.
# Rerun: tools already in .tools/bin (or on PATH) with good versions are kept,
# so a second run does no network at all. `rm -rf .tools` forces a reinstall.
# Env: MONSTACK_TOOLS_DIR (default <repo>/.tools), MONSTACK_APT_MIRROR (mirror
# URI to use instead of the one read from /etc/apt).
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
T=$(mkdir -p "${MONSTACK_TOOLS_DIR:-$REPO/.tools}" && cd "${MONSTACK_TOOLS_DIR:-$REPO/.tools}" && pwd)
A=$T/apt BIN=$T/bin KEYRING=/usr/share/keyrings/debian-archive-keyring.gpg
die() { echo "install-tools: ERROR: $*" >&2; exit 1; }

# tool -> "debian-package:path-in-package minimum-version"
TOOLS=(promtool prometheus amtool alertmanager docker-compose)
declare -A SPEC=(
  [promtool]="promtool:usr/bin/promtool 3.5.0"
  [prometheus]="prometheus:usr/bin/prometheus 3.5.0"
  [amtool]="prometheus-alertmanager:usr/bin/amtool 0.33.0"
  [alertmanager]="prometheus-alertmanager:usr/bin/prometheus-alertmanager 0.33.0"
  [docker-compose]="docker-compose:usr/libexec/docker/cli-plugins/docker-compose 2.40.0"
  [node_exporter]="prometheus-node-exporter:usr/bin/prometheus-node-exporter 0"
  [postgres_exporter]="prometheus-postgres-exporter:usr/bin/prometheus-postgres-exporter 0"
  [redis_exporter]="prometheus-redis-exporter:usr/bin/prometheus-redis-exporter 0"
  [mysqld_exporter]="prometheus-mysqld-exporter:usr/bin/prometheus-mysqld-exporter 0"
  [nginx_exporter]="prometheus-nginx-exporter:usr/bin/prometheus-nginx-exporter 0"
  [blackbox_exporter]="prometheus-blackbox-exporter:usr/bin/prometheus-blackbox-exporter 0"
  [pushgateway]="prometheus-pushgateway:usr/bin/prometheus-pushgateway 0"
  [vmalert]="victoria-metrics:usr/bin/vmalert 1.145.0"
  [vmalert-tool]="victoria-metrics:usr/bin/vmalert-tool 1.145.0"
  [victoria-metrics]="victoria-metrics:usr/bin/victoria-metrics 1.145.0")
for arg in "$@"; do
  case $arg in
    --exporters) TOOLS+=(node_exporter postgres_exporter redis_exporter mysqld_exporter nginx_exporter
                         blackbox_exporter pushgateway) ;;
    --victoriametrics) TOOLS+=(vmalert vmalert-tool victoria-metrics) ;;
    *) die "unknown argument '$arg' (usage: $0 [--exporters] [--victoriametrics])" ;;
  esac
done

version_of() {  # $1 = executable; prints its x.y.z version, or nothing
  local sub=--version; [[ $(basename "$1") == docker-compose ]] && sub=version
  case $(basename "$1") in vmalert|vmalert-tool|victoria-metrics)  # the package's changelog: first line's version
    local log; log=$(dirname "$(readlink -f "$1")")/../share/doc/victoria-metrics/changelog.Debian.gz
    { zcat "$log" 2>/dev/null || true; } | head -1 | grep -oE '[0-9]+\.[0-9]+\.[0-9]+' | head -1 || true
    return ;;
  esac
  { timeout 20 "$1" $sub 2>&1 || true; } | grep -oE '[0-9]+\.[0-9]+\.[0-9]+' | head -1 || true
}
ge() { [[ $(printf '%s\n' "$2" "$1" | sort -V | head -1) == "$2" ]]; }  # $1 >= $2
declare -A WHERE VER
check() {  # $1 = tool; ok if .tools/bin/<tool> or <tool> on PATH is new enough
  local min=${SPEC[$1]#* } b v found=""
  for b in "$BIN/$1" "$(command -v "$1" || true)"; do
    [[ -n $b && -x $b ]] || continue
    v=$(version_of "$b")
    [[ -n $v ]] && ge "$v" "$min" && { VER[$1]=$v; WHERE[$1]=$b; return 0; }
    found="${found:+$found, }${v:-unknown} at $b"
  done
  VER[$1]=${found:-none}; return 1
}

find_mirror() {  # the machine's own Debian mirror: first non-security deb source
  local c; c=$(. /etc/os-release 2>/dev/null && echo "${VERSION_CODENAME:-}")
  { for f in /etc/apt/sources.list.d/*.sources; do [[ -f $f ]] || continue
      awk -v c="$c" 'BEGIN { RS = "" } { t = u = s = ""; en = "yes"; n = split($0, L, "\n")
        for (i = 1; i <= n; i++) { k = tolower(L[i]); sub(/:.*/, "", k); v = L[i]; sub(/^[^:]*:[ \t]*/, "", v)
          if (k == "types") t = v; else if (k == "uris") u = v; else if (k == "suites") s = v; else if (k == "enabled") en = v }
        if (t ~ /(^| )deb( |$)/ && u != "" && s !~ /-security/ && en != "no") { split(u, U, " ")
          print ((" " s " ") ~ (" " c "[ -]") ? 0 : 1), U[1] } }' "$f"
    done
    cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null | sed -E 's/\[[^]]*\]//' |
      awk -v c="$c" '$1 == "deb" && $3 !~ /-security/ { print ($3 ~ "^" c ? 0 : 1), $2 }'
  } | sort -s -n -k1,1 | head -1 | cut -d' ' -f2
}

install_from_sid() {  # $@ = tools to (re)install
  local mirror=${MONSTACK_APT_MIRROR:-$(find_mirror)} t pkgs=() d
  [[ $mirror =~ ^[a-z0-9+]+:// ]] || die "cannot determine the Debian mirror URI from /etc/apt/sources.list.d/*.sources or /etc/apt/sources.list (set MONSTACK_APT_MIRROR)"
  [[ -r $KEYRING ]] || die "$KEYRING missing (Debian package debian-archive-keyring)"
  mkdir -p "$A"/{lists/partial,cache/archives/partial,sources.list.d,preferences.d,trusted.gpg.d,debs} "$T/root" "$BIN"
  : > "$A/status"
  printf 'Types: deb\nURIs: %s\nSuites: sid\nComponents: main\nSigned-By: %s\n' "$mirror" "$KEYRING" > "$A/sid.sources"
  cat > "$A/apt.conf" <<EOF
Dir::State "$A"; Dir::State::Lists "$A/lists"; Dir::State::status "$A/status";
Dir::Cache "$A/cache"; Dir::Etc::SourceList "$A/sid.sources"; Dir::Etc::SourceParts "$A/sources.list.d";
Dir::Etc::Preferences "$A/preferences"; Dir::Etc::PreferencesParts "$A/preferences.d";
Dir::Etc::Trusted "$A/trusted.gpg"; Dir::Etc::TrustedParts "$A/trusted.gpg.d";
APT::Sandbox::User "root"; Acquire::Languages "none";
EOF
  for t in "$@"; do pkgs+=("${SPEC[$t]%%:*}"); done
  mapfile -t pkgs < <(printf '%s\n' "${pkgs[@]}" | sort -u)
  echo "install-tools: fetching ${pkgs[*]} from Debian sid at $mirror" >&2
  apt-get -q -c "$A/apt.conf" --error-on=any update >&2 || die "private 'apt-get update' of sid failed (network, or sid's Release not signed by a key in $KEYRING?)"
  rm -f "$A"/debs/*.deb
  (cd "$A/debs" && apt-get -q -c "$A/apt.conf" download "${pkgs[@]}") >&2 ||
    die "apt-get download of ${pkgs[*]} from sid failed"
  for d in "$A"/debs/*.deb; do dpkg -x "$d" "$T/root"; done
  for t in "$@"; do d=${SPEC[$t]%% *}; ln -sfn "../root/${d#*:}" "$BIN/$t"; done
}

missing=()
for t in "${TOOLS[@]}"; do check "$t" || missing+=("$t"); done
if ((${#missing[@]})); then
  install_from_sid "${missing[@]}"
  failed=0
  for t in "${missing[@]}"; do
    check "$t" && continue
    failed=1
    echo "install-tools: ERROR: $t: found ${VER[$t]}, need >= ${SPEC[$t]#* }." \
      "Put an official release binary of $t on PATH or at $BIN/$t and rerun." >&2
  done
  ((failed == 0)) || exit 1
fi
for t in "${TOOLS[@]}"; do printf '%-18s %-8s %s\n' "$t" "${VER[$t]}" "${WHERE[$t]}"; done

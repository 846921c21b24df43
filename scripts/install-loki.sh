#!/usr/bin/env bash
# install-loki.sh builds Grafana Loki from its Go module into a cache outside
# the repository and prints the binary's path as the last line of output.
#
#   scripts/install-loki.sh            # build (or reuse) the pinned version
#   LOKI_VERSION=v3.5.3 scripts/install-loki.sh
#
# Cache location: $VIGIL_CACHE, else $XDG_CACHE_HOME/vigil, else ~/.cache/vigil.
# The binary lands in <cache>/loki-<version>/loki.
#
# `go install` refuses the Loki module because its go.mod has replace
# directives, so we download the module source, copy it somewhere writable,
# vendor the nested module github.com/grafana/loki/pkg/push into pkg/push
# (the module zip omits nested modules) and run `go build ./cmd/loki`.
#
# Idempotent and safe when two runs race: a lock makes later runs wait for
# the first build, and each build goes to its own temp directory and is
# moved into place with an atomic rename.
set -euo pipefail

LOKI_VERSION="${LOKI_VERSION:-v3.5.3}"
LOKI_MODULE="github.com/grafana/loki/v3"
PUSH_MODULE="github.com/grafana/loki/pkg/push"

log() { printf 'install-loki: %s\n' "$*" >&2; }
die() { printf 'install-loki: error: %s\n' "$*" >&2; exit 1; }

command -v go >/dev/null 2>&1 || die "go not found in PATH"

if [[ -n "${VIGIL_CACHE:-}" ]]; then
	cache_root="${VIGIL_CACHE}"
elif [[ -n "${XDG_CACHE_HOME:-}" ]]; then
	cache_root="${XDG_CACHE_HOME}/vigil"
else
	[[ -n "${HOME:-}" ]] || die "neither VIGIL_CACHE, XDG_CACHE_HOME nor HOME is set"
	cache_root="${HOME}/.cache/vigil"
fi
dest_dir="${cache_root}/loki-${LOKI_VERSION}"
dest="${dest_dir}/loki"

if [[ -x "${dest}" ]]; then
	log "reusing cached build ${dest}"
	printf '%s\n' "${dest}"
	exit 0
fi

mkdir -p "${dest_dir}" || die "cannot create cache dir ${dest_dir}"

# Concurrent runs (e.g. several test packages at once on a fresh machine)
# wait for the first build instead of each spending minutes on their own.
# Without flock they still end up correct: each builds in its own temp dir
# and the rename into place is atomic.
if command -v flock >/dev/null 2>&1; then
	exec 9>"${dest_dir}/.lock"
	flock 9 || die "cannot lock ${dest_dir}/.lock"
	if [[ -x "${dest}" ]]; then
		log "reusing cached build ${dest}"
		printf '%s\n' "${dest}"
		exit 0
	fi
fi

# Work outside any go.mod so `go mod download` runs in module-less mode and
# does not touch the caller's module.
work="$(mktemp -d "${dest_dir}/build.XXXXXX")" || die "cannot create temp dir"
cleanup() { chmod -R u+w "${work}" 2>/dev/null || true; rm -rf "${work}"; }
trap cleanup EXIT

# moddir MODULE VERSION prints the extracted module directory.
moddir() {
	local json dir
	json="$(cd "${work}" && GOFLAGS=-mod=mod GO111MODULE=on go mod download -json "$1@$2")" \
		|| die "go mod download $1@$2 failed: ${json}"
	dir="$(printf '%s\n' "${json}" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",\{0,1\}$/\1/p' | head -n1)"
	[[ -n "${dir}" && -d "${dir}" ]] || die "go mod download $1@$2 gave no Dir: ${json}"
	printf '%s\n' "${dir}"
}

log "downloading ${LOKI_MODULE}@${LOKI_VERSION}"
loki_src="$(moddir "${LOKI_MODULE}" "${LOKI_VERSION}")"

src="${work}/src"
cp -R "${loki_src}" "${src}"
chmod -R u+w "${src}"

push_version="$(awk -v m="${PUSH_MODULE}" '$1 == m && $2 ~ /^v/ { print $2; exit } $1 == "require" && $2 == m { print $3; exit }' "${src}/go.mod")"
[[ -n "${push_version}" ]] || die "could not find ${PUSH_MODULE} version in ${LOKI_MODULE} go.mod"
log "adding nested module ${PUSH_MODULE}@${push_version} into pkg/push"
push_src="$(moddir "${PUSH_MODULE}" "${push_version}")"
rm -rf "${src}/pkg/push"
cp -R "${push_src}" "${src}/pkg/push"
chmod -R u+w "${src}/pkg/push"

log "building ${LOKI_MODULE}@${LOKI_VERSION}/cmd/loki (takes a few minutes)"
(
	cd "${src}"
	# -mod=mod: the module zip has no vendor dir; GOWORK=off: ignore any
	# workspace of the caller; GOFLAGS cleared for predictable flags.
	GOWORK=off GOFLAGS= CGO_ENABLED=0 go build -mod=mod -trimpath \
		-ldflags "-s -w -X github.com/grafana/loki/v3/pkg/util/build.Version=${LOKI_VERSION#v}" \
		-o "${work}/loki" ./cmd/loki
) || die "go build ./cmd/loki failed"

"${work}/loki" -version >/dev/null 2>&1 || die "built binary does not run"
chmod 0755 "${work}/loki"
mv -f "${work}/loki" "${dest}" || die "cannot move binary to ${dest}"
log "built ${dest}"
printf '%s\n' "${dest}"

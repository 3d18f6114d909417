#!/usr/bin/env bash
# `just k8s`: prove the Kubernetes manifests and the image recipe are deployable,
# offline (no cluster, no Docker engine).
#
#   1. render every overlay with kustomize: overlays/dev and overlays/prod, and
#      each service's own overlay in them (each service deploys on its own);
#   2. validate the render against the Kubernetes 1.32 OpenAPI schemas with
#      kubernetes-validate --strict (unknown fields are errors), installing the
#      validator when it is missing, and failing, never skipping, when it cannot;
#   3. check the platform's own rules on the render (policy.py);
#   4. run the broken fixtures in tests/broken/ through the same steps and fail
#      if any of them is ACCEPTED: proof that the checks above actually bite;
#   5. check that the Dockerfile builds with the justfile's release command.
#
# Exit status 0 only when all of that holds. One summary line per overlay.
#
# Environment:
#   K8S_PYTHON   python interpreter to use (default: python3, then a private venv)
set -euo pipefail

# The Kubernetes version whose schemas the manifests must satisfy. The gateway's
# preStop `sleep` action needs >= 1.30; 1.32 is the oldest version still supported
# upstream when this was written.
readonly K8S_VERSION=1.32.0
# Pinned so every machine validates against the same schemas; 1.37.0 ships the
# schemas of Kubernetes 1.25 to 1.37.
readonly VALIDATOR_PKG=kubernetes-validate==1.37.0
readonly RELEASE_BUILD='cargo build --release --locked -p'

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

failures=0
fail() { echo "FAIL  $*"; failures=$((failures + 1)); }
die() { echo "k8s: $*" >&2; exit 1; }
rel() { echo "${1#"$here"/}"; }

# --- tools --------------------------------------------------------------------------

# Renderer: kubectl embeds kustomize; a standalone kustomize works the same.
if command -v kubectl >/dev/null 2>&1; then
  render() { kubectl kustomize "$1"; }
elif command -v kustomize >/dev/null 2>&1; then
  render() { kustomize build "$1"; }
else
  die "neither kubectl nor kustomize is on PATH; install kubectl (it embeds kustomize): https://kubernetes.io/docs/tasks/tools/"
fi

# Validator: a Python with kubernetes_validate (and PyYAML, its dependency, which
# policy.py uses too). Run as `python -m kubernetes_validate` so the validator and
# policy.py always share one interpreter.
# "Usable" means: importable, and it has the schemas of $K8S_VERSION (an older
# kubernetes-validate lacks them), tried on a one-object manifest.
printf 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: probe\n' >"$work/probe.yaml"
has_validator() {
  "$1" -c 'import kubernetes_validate, yaml' >/dev/null 2>&1 \
    && "$1" -m kubernetes_validate -k "$K8S_VERSION" --strict --quiet "$work/probe.yaml" >/dev/null 2>&1
}

find_python() {
  local base="${K8S_PYTHON:-python3}"
  local venv="${XDG_CACHE_HOME:-$HOME/.cache}/trading-bot-platform/k8s-venv"
  command -v "$base" >/dev/null 2>&1 || die "no Python interpreter ($base) to run kubernetes-validate"
  if has_validator "$base"; then echo "$base"; return; fi
  if has_validator "$venv/bin/python"; then echo "$venv/bin/python"; return; fi
  echo "k8s: no kubernetes-validate with the $K8S_VERSION schemas; installing $VALIDATOR_PKG" >&2
  # Straight into the interpreter first (a pyenv/virtualenv Python, CI images) ...
  local pip_log="$work/pip.log"
  if "$base" -m pip install --quiet --disable-pip-version-check "$VALIDATOR_PKG" >"$pip_log" 2>&1 \
     && has_validator "$base"; then
    echo "$base"; return
  fi
  # ... else into a private venv: a system Python refuses global installs (PEP 668).
  echo "k8s: $base refused the install; installing into $venv instead" >&2
  if "$base" -m venv "$venv" >>"$pip_log" 2>&1 \
     && "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "$VALIDATOR_PKG" >>"$pip_log" 2>&1 \
     && has_validator "$venv/bin/python"; then
    echo "$venv/bin/python"; return
  fi
  cat "$pip_log" >&2
  die "could not install $VALIDATOR_PKG (needs PyPI, or run: pip install $VALIDATOR_PKG); refusing to skip validation"
}
py="$(find_python)"

# --- the pipeline: render -> schema -> policy ---------------------------------------

# check_dir DIR ENV LOG: render DIR, validate it, apply the policy for ENV.
# Writes everything said about it to LOG; status 0 only if all three pass. The
# last line of LOG is the policy's summary on success.
check_dir() {
  local dir="$1" env="$2" log="$3" out
  out="$work/$(rel "$dir" | tr '/' '_').yaml"
  if ! render "$dir" >"$out" 2>"$log"; then
    echo "render failed" >>"$log"; return 1
  fi
  if ! grep -q '^kind:' "$out"; then
    echo "render is empty" >>"$log"; return 1
  fi
  local status=0
  "$py" -m kubernetes_validate -k "$K8S_VERSION" --strict --quiet "$out" >>"$log" 2>&1 || status=1
  # The validator only WARNs when it has no schema for an object (a typo'd or
  # removed apiVersion, an unknown kind) and then passes it unchecked. Everything
  # here is a core kind with a schema, so a warning is a failure.
  if grep -q '^WARN' "$log"; then status=1; fi
  # policy.py assumes schema-valid input, so it runs only after the schemas pass.
  if [ "$status" -eq 0 ]; then
    "$py" "$here/policy.py" --env "$env" "$out" >>"$log" 2>&1 || status=1
  fi
  return "$status"
}

indent() { sed 's/^/      /'; }

echo "k8s: Kubernetes $K8S_VERSION schemas (strict) + platform policy, kubernetes-validate $("$py" -m kubernetes_validate --version 2>&1 | tail -n1)"

# Every overlay: the whole environment, then each service on its own.
overlays=0
for env in dev prod; do
  for dir in "$here/overlays/$env" "$here/overlays/$env"/*/; do
    dir="${dir%/}"
    [ -f "$dir/kustomization.yaml" ] || continue
    log="$work/log"
    overlays=$((overlays + 1))
    if check_dir "$dir" "$env" "$log"; then
      printf 'ok    %-40s %s\n' "$(rel "$dir")" "$(tail -n1 "$log")"
    else
      fail "$(rel "$dir")"
      indent <"$log"
    fi
  done
done
[ "$overlays" -ge 12 ] || fail "expected overlays/{dev,prod} and 5 services in each, found $overlays kustomizations"

# Broken fixtures: each must be rejected, and for the reason it names.
fixtures=0
for dir in "$here"/tests/broken/*/; do
  dir="${dir%/}"
  [ -f "$dir/kustomization.yaml" ] || continue
  fixtures=$((fixtures + 1))
  log="$work/log"
  want="$(cat "$dir/expected-error" 2>/dev/null || true)"
  if [ -z "$want" ]; then
    fail "$(rel "$dir"): no expected-error file naming why it must be rejected"
  elif check_dir "$dir" dev "$log"; then
    fail "$(rel "$dir") was ACCEPTED: the validation does not catch this mistake"
  elif grep -qF -- "$want" "$log"; then
    printf 'ok    %-40s rejected: %s\n' "$(rel "$dir")" "$want"
  else
    fail "$(rel "$dir") was rejected, but not with: $want"
    indent <"$log"
  fi
done
[ "$fixtures" -gt 0 ] || fail "no broken fixtures in tests/broken/: nothing proves the validator bites"

# --- the image recipe (no Docker engine here: check what can be checked) ------------

dockerfile="$repo/deploy/docker/Dockerfile"
if ! grep -qF -- "$RELEASE_BUILD \"\${SERVICE}\"" "$dockerfile"; then
  fail "deploy/docker/Dockerfile: builder stage must run: $RELEASE_BUILD \"\${SERVICE}\""
elif [ -f "$repo/justfile" ] && ! grep -qF -- "$RELEASE_BUILD" "$repo/justfile"; then
  fail "justfile no longer builds releases with '$RELEASE_BUILD <service>': update deploy/docker/Dockerfile to match"
else
  echo "ok    docker/Dockerfile                        builder runs: $RELEASE_BUILD \"\${SERVICE}\""
fi

# Each service the manifests deploy must exist as a workspace package with a
# binary of the same name (cargo -p) and a config dir (COPY in the Dockerfile).
if [ -f "$repo/Cargo.toml" ]; then
  if ! command -v cargo >/dev/null 2>&1; then
    fail "cargo not found: cannot check the services the images build"
  elif ! meta="$(cd "$repo" && cargo metadata --no-deps --offline --format-version 1 2>"$work/cargo.err")"; then
    fail "cargo metadata failed"; indent <"$work/cargo.err"
  else
    missing=""
    for svc_dir in "$here"/base/*/; do
      svc="$(basename "$svc_dir")"
      if ! printf '%s' "$meta" | "$py" -c '
import json, sys
svc = sys.argv[1]
pkgs = json.load(sys.stdin)["packages"]
ok = any(p["name"] == svc and any(t["name"] == svc and "bin" in t["kind"] for t in p["targets"]) for p in pkgs)
sys.exit(0 if ok else 1)' "$svc"; then
        missing="$missing $svc(package/binary)"
      fi
      [ -f "$repo/services/$svc/config/default.toml" ] || missing="$missing $svc(services/$svc/config/default.toml)"
    done
    if [ -n "$missing" ]; then
      fail "the image cannot be built for:$missing"
    else
      echo "ok    docker/Dockerfile                        every service has its package, binary and config/default.toml"
    fi
  fi
else
  echo "note  no Cargo.toml yet: the services' packages and config dirs were not checked"
fi

if [ "$failures" -ne 0 ]; then
  echo "k8s: FAILED ($failures problem(s))"
  exit 1
fi
echo "k8s: ok ($overlays overlays valid, $fixtures broken fixtures rejected)"

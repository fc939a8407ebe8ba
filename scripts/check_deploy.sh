#!/usr/bin/env bash
# Checks the deployment files without a cluster: shell syntax (bash -n, and
# the shellcheck linter when installed), the Kubernetes manifests against the API
# schemas (kubernetes-validate, which bundles them: kubectl's own validation
# needs an API server), the values the manifests must share, and the Slurm
# script's submit step against a stand-in sbatch.
#
#   bash scripts/check_deploy.sh
#
# Tools: shellcheck (apt-get install shellcheck), kubernetes-validate (pip
# install kubernetes-validate, which brings PyYAML). A missing tool skips
# its check with a note; CHECK_DEPLOY_REQUIRE_ALL=1 makes that a failure.
# K8S_VERSIONS: the API versions checked, default 1.29.0 (the first whose
# Jobs have backoffLimitPerIndex on by default) and 1.33.0 (where it is GA).
set -euo pipefail
cd "$(dirname "$0")/.."
root="$PWD"
K8S_VERSIONS="${K8S_VERSIONS:-1.29.0 1.33.0}"

failed=0
fail() { echo "FAIL $*"; failed=1; }
skip() {
    echo "SKIP $*"
    if [ "${CHECK_DEPLOY_REQUIRE_ALL:-0}" = 1 ]; then failed=1; fi
}

scripts=(deploy/slurm/*.sh scripts/check_deploy.sh scripts/simulate_shards.sh)
manifests=(deploy/kubernetes/*.yaml)

for f in "${scripts[@]}"; do
    bash -n "$f" || fail "$f: bash -n"
done
echo "ran: bash -n on ${#scripts[@]} scripts"

if command -v shellcheck >/dev/null; then
    for f in "${scripts[@]}"; do
        shellcheck "$f" || fail "$f: shellcheck"
    done
    echo "ran: shellcheck $(shellcheck --version | sed -n 's/^version: //p')"
else
    skip "shellcheck: not installed"
fi

# sbatch reads #SBATCH lines only above the first command.
for f in deploy/slurm/*.sh; do
    if awk '/^[^#]/ && NF { body = 1 } body && /^#SBATCH/ { bad = 1 } END { exit !bad }' "$f"; then
        fail "$f: an #SBATCH line below the first command, which sbatch ignores"
    fi
done

# Through the interpreter: pip's console script is not always on PATH (a
# pyenv shim appears only after a rehash).
if python3 -c 'import kubernetes_validate' 2>/dev/null; then
    for v in $K8S_VERSIONS; do
        for f in "${manifests[@]}"; do
            # --strict: unknown fields are errors, not silently dropped.
            python3 -m kubernetes_validate --strict --quiet -k "$v" "$f" || fail "$f: schema of Kubernetes $v"
        done
    done
    echo "ran: kubernetes-validate --strict against Kubernetes $K8S_VERSIONS"
else
    skip "Kubernetes schemas: kubernetes-validate not installed"
fi

if python3 -c 'import yaml' 2>/dev/null; then
    python3 - "${manifests[@]}" <<'PY' || failed=1
import sys, yaml

jobs = {}
for path in sys.argv[1:]:
    with open(path) as f:
        for doc in yaml.safe_load_all(f):
            if doc and doc.get("kind") == "Job":
                jobs[doc["metadata"]["name"]] = (path, doc)

def container(doc):
    return doc["spec"]["template"]["spec"]["containers"][0]

def env(doc):
    return {e["name"]: e.get("value") for e in container(doc).get("env", [])}

bad = []
mask_path, mask = jobs["maskface-mask"]
merge_path, merge = jobs["maskface-merge"]
n = mask["spec"].get("completions")
if env(mask).get("SHARDS") != str(n):
    bad.append(f"{mask_path}: env SHARDS={env(mask).get('SHARDS')} but completions: {n}")
if mask["spec"].get("completionMode") != "Indexed":
    bad.append(f"{mask_path}: completionMode is not Indexed")
if env(mask).get("OUT") != env(merge).get("OUT"):
    bad.append(f"{merge_path}: OUT={env(merge).get('OUT')}, not the mask Job's {env(mask).get('OUT')}")
for path, doc in (jobs["maskface-mask"], jobs["maskface-merge"]):
    if container(doc).get("command", [])[:2] != ["sh", "-c"]:
        bad.append(f"{path}: the command is not sh -c STRING (scripts/simulate_shards.sh runs that string)")
for b in bad:
    print("FAIL", b)
sys.exit(1 if bad else 0)
PY
    echo "ran: consistency of the manifests (SHARDS = completions, one OUT)"
else
    skip "manifest consistency: PyYAML not installed"
fi

# The submit step with a stand-in sbatch that records its arguments.
fake=$(mktemp -d)
trap 'rm -rf "$fake"' EXIT
cat >"$fake/sbatch" <<'SH'
#!/usr/bin/env bash
echo "$*" >>"$(dirname "$0")/calls"
echo "$(( $(wc -l <"$(dirname "$0")/calls") + 100 ))"
SH
chmod +x "$fake/sbatch"
f=deploy/slurm/mask-array.sh
if (cd "$fake" && PATH="$fake:$PATH" SHARDS=8 MAXRUNNING=3 LOGS="$fake/logs" \
    bash "$root/$f" "$root/fixtures/photos" out --seed 7 >/dev/null); then
    grep -q -- '--array=0-7%3 .*MASKFACE_SHARDS=8.* out --seed 7$' "$fake/calls" ||
        fail "$f: submit step: the array job is not --array=0-7%3 with the options: $(head -1 "$fake/calls")"
    grep -q -- '--dependency=afterok:101 .*MASKFACE_STEP=merge' "$fake/calls" ||
        fail "$f: submit step: no merge job after afterok:101: $(tail -1 "$fake/calls")"
else
    fail "$f: submit step failed"
fi
if (cd "$fake" && PATH="$fake:$PATH" bash "$root/$f" "$root/fixtures/photos" out --overwrite 2>/dev/null); then
    fail "$f: submit step accepted --overwrite"
fi
echo "ran: submit step of $f with a stand-in sbatch"

if [ "$failed" = 0 ]; then echo "deploy checks passed"; else echo "deploy checks FAILED"; fi
exit "$failed"

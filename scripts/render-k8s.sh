#!/usr/bin/env bash
# Renders each overlay of k8s/ with kustomize (kubectl's, or a kustomize binary) into
# k8s/rendered/<overlay>.yaml: what `kubectl apply -k k8s/overlays/<overlay>` would apply.
# test/unit/deploy/manifests.test.ts validates these files and, where kustomize is on the PATH,
# fails when they are out of date. Run this after changing anything under k8s/.
set -euo pipefail
cd "$(dirname "$0")/.."
if command -v kustomize >/dev/null 2>&1; then render=(kustomize build); else render=(kubectl kustomize); fi
mkdir -p k8s/rendered
for overlay in dev production; do
  {
    echo "# Rendered from k8s/overlays/${overlay} by scripts/render-k8s.sh: do not edit."
    "${render[@]}" "k8s/overlays/${overlay}"
  } > "k8s/rendered/${overlay}.yaml"
  echo "k8s/rendered/${overlay}.yaml"
done

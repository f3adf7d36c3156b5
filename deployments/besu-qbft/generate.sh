#!/usr/bin/env bash
# Generate four QBFT validator key pairs plus the genesis file, then lay out
# node1..node4/data/key for start-node.sh.
#
# NOT EXECUTED on the machine where it was written (no Besu there); it follows
# the Besu QBFT tutorial. See README.md.
#
# Usage:   ./generate.sh
# Env:     BESU=/path/to/besu   (default: `besu` on PATH)
#
# Produces (all inside this directory):
#   networkFiles/genesis.json            written by Besu, with QBFT extraData
#   networkFiles/keys/0x<address>/key     one directory per validator
#   genesis.json                         copy used by start-node.sh
#   nodeN/data/key, nodeN/data/key.pub   validator N's node key (N = 1..4)
#   nodeN/address                        validator N's address (informational)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$here"

besu="${BESU:-besu}"

die() {
  echo "generate.sh: $*" >&2
  exit 1
}

command -v "$besu" >/dev/null 2>&1 || die "Besu not found (set BESU=/path/to/besu or put besu on PATH)"
[[ -f qbftConfigFile.json ]] || die "qbftConfigFile.json is missing"

# Never overwrite existing keys: losing a validator key means losing that validator.
[[ ! -e networkFiles ]] || die "networkFiles/ already exists; refusing to overwrite it"
[[ ! -e genesis.json ]] || die "genesis.json already exists; refusing to overwrite it"
for n in 1 2 3 4; do
  [[ ! -e "node$n/data" ]] || die "node$n/data already exists; refusing to overwrite it"
done

# Private keys must not be world-readable.
umask 077

"$besu" operator generate-blockchain-config \
  --config-file=qbftConfigFile.json \
  --to=networkFiles \
  --private-key-file-name=key

# Besu logs I/O errors from this subcommand instead of always failing, so check
# the output rather than trusting the exit status alone.
[[ -f networkFiles/genesis.json ]] || die "Besu did not write networkFiles/genesis.json"
grep -q '"extraData"' networkFiles/genesis.json \
  || die "networkFiles/genesis.json has no extraData (is the qbft section present in qbftConfigFile.json?)"

# One directory per validator, named after its address (0x...). Sort so the
# node numbering is reproducible.
keydirs=()
while IFS= read -r dir; do
  keydirs+=("$dir")
done < <(find networkFiles/keys -mindepth 1 -maxdepth 1 -type d | LC_ALL=C sort)
[[ ${#keydirs[@]} -eq 4 ]] || die "expected 4 key directories in networkFiles/keys, found ${#keydirs[@]}"

cp networkFiles/genesis.json genesis.json

n=0
for dir in "${keydirs[@]}"; do
  n=$((n + 1))
  [[ -f "$dir/key" && -f "$dir/key.pub" ]] || die "$dir is missing key or key.pub"
  mkdir -p "node$n/data"
  cp "$dir/key" "$dir/key.pub" "node$n/data/"
  chmod 600 "node$n/data/key"
  basename "$dir" > "node$n/address"
  echo "node$n  validator $(basename "$dir")"
done

cat <<'EOF'

Done. Next steps (README.md, steps 3-5):
  ./start-node.sh 1          # terminal 1 (bootnode)
  ./start-node.sh 2          # terminals 2..4
  ./start-node.sh 3
  ./start-node.sh 4
Back up networkFiles/keys/ somewhere safe and private: these are the validator keys.
EOF

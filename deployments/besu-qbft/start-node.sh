#!/usr/bin/env bash
# Start validator N (1..4) of the liandai QBFT network in the foreground.
#
# NOT EXECUTED on the machine where it was written (no Besu there); it follows
# the Besu QBFT tutorial. See README.md.
#
# Usage:   ./start-node.sh N [extra besu options...]
#          e.g. ./start-node.sh 1
#               ./start-node.sh 2 --logging=DEBUG
#
# Ports for node N:  P2P (TCP+UDP) = P2P_BASE_PORT + N - 1   (default 30303..30306)
#                    JSON-RPC HTTP = RPC_BASE_PORT + N - 1   (default  8545..8548)
#
# Env (all optional):
#   BESU            Besu executable (default: `besu` on PATH)
#   P2P_BASE_PORT   default 30303
#   RPC_BASE_PORT   default 8545
#   P2P_HOST        address advertised in this node's enode (default from node.toml: 127.0.0.1)
#   BOOTNODE_HOST   host part of node 1's enode used by nodes 2..4 (default 127.0.0.1)
#   BOOTNODES       full --bootnodes value; overrides the enode derived from node1/data/key.pub
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

die() {
  echo "start-node.sh: $*" >&2
  exit 1
}

[[ $# -ge 1 ]] || die "usage: $0 N [extra besu options...]   (N = 1..4)"
node="$1"
shift
[[ "$node" =~ ^[1-4]$ ]] || die "node index must be 1, 2, 3 or 4 (got '$node')"

besu="${BESU:-besu}"
p2p_base="${P2P_BASE_PORT:-30303}"
rpc_base="${RPC_BASE_PORT:-8545}"
[[ "$p2p_base" =~ ^[0-9]+$ && "$rpc_base" =~ ^[0-9]+$ ]] || die "P2P_BASE_PORT and RPC_BASE_PORT must be numbers"

p2p_port=$((p2p_base + node - 1))
rpc_port=$((rpc_base + node - 1))
data_path="$here/node$node/data"
genesis="$here/genesis.json"

command -v "$besu" >/dev/null 2>&1 || die "Besu not found (set BESU=/path/to/besu or put besu on PATH)"
[[ -f "$genesis" ]] || die "$genesis not found; run ./generate.sh first"
# Without its key file Besu would silently generate a NEW key, which is not one
# of the genesis validators, and the node could not take part in consensus.
[[ -f "$data_path/key" ]] || die "$data_path/key not found; run ./generate.sh first"

args=(
  --config-file="$here/node.toml"
  --genesis-file="$genesis"
  --data-path="$data_path"
  --p2p-port="$p2p_port"
  --rpc-http-port="$rpc_port"
  --profile=ENTERPRISE
)

if [[ -n "${P2P_HOST:-}" ]]; then
  args+=(--p2p-host="$P2P_HOST")
fi

if [[ -n "${BOOTNODES:-}" ]]; then
  args+=(--bootnodes="$BOOTNODES")
elif [[ "$node" != 1 ]]; then
  # Node 1 is the bootnode. Its enode URL is enode://<public key without 0x>@host:port;
  # Besu writes the public key as 0x-prefixed hex to key.pub.
  pubfile="$here/node1/data/key.pub"
  [[ -f "$pubfile" ]] || die "$pubfile not found; cannot build node 1's enode (or set BOOTNODES)"
  pub="$(tr -d '[:space:]' < "$pubfile")"
  pub="${pub#0x}"
  [[ "$pub" =~ ^[0-9a-fA-F]{128}$ ]] || die "unexpected public key format in $pubfile"
  args+=(--bootnodes="enode://${pub}@${BOOTNODE_HOST:-127.0.0.1}:${p2p_base}")
fi

echo "node$node: p2p port $p2p_port, JSON-RPC http://127.0.0.1:$rpc_port, data $data_path" >&2
exec "$besu" "${args[@]}" "$@"

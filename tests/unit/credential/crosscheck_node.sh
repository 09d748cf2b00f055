#!/bin/sh
# Cross-check of vitae's credential formats against independent node implementations:
# eddsa-jcs-2022 with canonicalize + @noble/curves, JWS with jose (EdDSA, ES256, RS256),
# COSE_Sign1 with cbor-x + @noble/curves (EdDSA, ES256), each direction.
# usage: crosscheck_node.sh VITAE_BINARY SOURCE_DIR CACHE_DIR
# The npm packages are installed once into CACHE_DIR (in the build tree). Exits 77
# (skipped) when node or npm is missing or the registry cannot be reached.

VITAE=$1
SRC=$2
CACHE=$3
HERE=$SRC/tests/unit/credential
KEYS=$SRC/tests/cli/keys
PACKAGES="jose@6 canonicalize @noble/curves@2 cbor-x"

if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
    echo "skipped: node and npm are needed for the cross-check"
    exit 77
fi
mkdir -p "$CACHE" || exit 1
stamp="$CACHE/.installed"
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$PACKAGES" ]; then
    # shellcheck disable=SC2086
    if ! npm install --prefix "$CACHE" --no-audit --no-fund --loglevel=error $PACKAGES \
        >"$CACHE/npm.log" 2>&1; then
        echo "skipped: npm install failed (registry unavailable?); see $CACHE/npm.log"
        tail -5 "$CACHE/npm.log"
        exit 77
    fi
    echo "$PACKAGES" >"$stamp"
fi
# ESM resolves packages next to the script, so it runs from the cache.
cp "$HERE/crosscheck_node.mjs" "$CACHE/crosscheck_node.mjs" || exit 1
NODE="node $CACHE/crosscheck_node.mjs"

T=$(mktemp -d) || exit 1
trap 'rm -rf "$T"' EXIT
failures=0

check() {
    name=$1
    shift
    if "$@" >"$T/out" 2>"$T/err"; then
        echo "ok   $name"
    else
        echo "FAIL $name"
        sed 's/^/  /' "$T/err" | head -10
        failures=$((failures + 1))
    fi
}

# Runs a command whose stdout is the result, into file $1.
produce() {
    out=$1
    shift
    "$@" >"$out" 2>"$T/err" || {
        echo "FAIL producing $(basename "$out")"
        sed 's/^/  /' "$T/err" | head -10
        failures=$((failures + 1))
    }
}

$NODE prep "$T" "$KEYS/ed25519.jwk.json" || exit 1

# RFC 8785: the same canonical bytes from both implementations.
produce "$T/jcs.txt" "$VITAE" jcs "$T/doc-ed.json"
check jcs-canonicalize $NODE jcs "$T/doc-ed.json" "$T/jcs.txt"

# eddsa-jcs-2022, both ways.
produce "$T/di.json" "$VITAE" sign --key "$KEYS/ed25519.jwk.json" "$T/doc-ed.json"
check di-vitae-signed-node-verifies $NODE verify-di "$T/di.json"
produce "$T/node-di.json" $NODE sign-di "$T/doc-ed.json" "$KEYS/ed25519.jwk.json"
check di-node-signed-vitae-verifies "$VITAE" verify "$T/node-di.json"

# JWS, both ways, for each algorithm.
for alg in EdDSA ES256 RS256; do
    case $alg in
    EdDSA) key=$KEYS/ed25519.jwk.json doc=$T/doc-ed.json ;;
    ES256) key=$KEYS/es256.jwk.json doc=$T/doc-url.json ;;
    RS256) key=$KEYS/rs256.jwk.json doc=$T/doc-url.json ;;
    esac
    produce "$T/$alg.jwt" "$VITAE" sign --format jwt --alg "$alg" --key "$key" "$doc"
    check "jwt-$alg-vitae-signed-jose-verifies" $NODE verify-jwt "$T/$alg.jwt" "$key" "$alg"
    produce "$T/node-$alg.jwt" $NODE sign-jwt "$T/doc-url.json" "$key" "$alg"
    check "jwt-$alg-jose-signed-vitae-verifies" "$VITAE" verify --key "$key" "$T/node-$alg.jwt"
done

# COSE_Sign1, both ways.
for alg in EdDSA ES256; do
    case $alg in
    EdDSA) key=$KEYS/ed25519.jwk.json doc=$T/doc-ed.json ;;
    ES256) key=$KEYS/es256.jwk.json doc=$T/doc-url.json ;;
    esac
    produce "$T/$alg.cose" "$VITAE" sign --format cose --alg "$alg" --key "$key" "$doc"
    check "cose-$alg-vitae-signed-node-verifies" $NODE verify-cose "$T/$alg.cose" "$key"
    produce "$T/node-$alg.cose" $NODE sign-cose "$T/doc-url.json" "$key" "$alg"
    check "cose-$alg-node-signed-vitae-verifies" "$VITAE" verify --key "$key" "$T/node-$alg.cose"
done

# A changed byte must fail on the other side too.
sed 's/Run the test/Run the tests/' "$T/di.json" >"$T/di-bad.json"
if $NODE verify-di "$T/di-bad.json" 2>/dev/null; then
    echo "FAIL di-tampered-node-refuses"
    failures=$((failures + 1))
else
    echo "ok   di-tampered-node-refuses"
fi

if [ "$failures" -ne 0 ]; then
    echo "$failures cross-check(s) failed"
    exit 1
fi
echo "all cross-checks passed"

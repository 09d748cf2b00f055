#!/bin/sh
# CLI cases for vitae sign | verify | jcs: stdout, exit codes and golden files.
# usage: test_vitae.sh VITAE_BINARY SOURCE_DIR
# Exits 77 (skipped) when the shared vectors are absent.

VITAE=$1
HERE=$2/tests/cli
SHARED=${VITAE_SHARED:-$2/../shared}
V=$SHARED/vectors/vc-di-eddsa
OB=$SHARED/vectors/obv3/1edtech-validator-ob30
VM='did:key:z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2#z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2'

if [ ! -f "$V/keyPair.json" ]; then
    echo "skipped: shared vectors not found at $SHARED (set VITAE_SHARED)"
    exit 77
fi
T=$(mktemp -d) || exit 1
trap 'rm -rf "$T"' EXIT
failures=0
count=0

# expect NAME WANT_EXIT CMD...: runs CMD, stdout to $T/out, stderr to $T/err.
expect() {
    name=$1
    want=$2
    shift 2
    count=$((count + 1))
    "$@" >"$T/out" 2>"$T/err"
    got=$?
    if [ "$got" != "$want" ]; then
        echo "FAIL $name: exit $got, expected $want"
        sed 's/^/  stdout: /' "$T/out" | head -20
        sed 's/^/  stderr: /' "$T/err" | head -20
        failures=$((failures + 1))
        return 1
    fi
    echo "ok   $name"
    return 0
}

# stdout_has NAME TEXT: the last command's stdout contains TEXT.
stdout_has() {
    if ! grep -qF -- "$2" "$T/out"; then
        echo "FAIL $1: stdout lacks '$2'"
        sed 's/^/  stdout: /' "$T/out" | head -20
        failures=$((failures + 1))
    fi
}

same_file() {
    if ! cmp -s "$2" "$3"; then
        echo "FAIL $1: $2 differs from $3"
        diff "$2" "$3" | head -20
        failures=$((failures + 1))
    fi
}

# --- the W3C vector, reproduced through the CLI
expect sign-w3c-vector 0 "$VITAE" sign --key "$V/keyPair.json" --created 2023-02-24T23:36:38Z \
    --verification-method "$VM" "$V/unsigned.json"
{ cat "$V/eddsa-jcs-2022/signedJCS.json"; echo; } >"$T/golden.json"
same_file sign-w3c-vector-golden "$T/out" "$T/golden.json"
expect verify-w3c-vector 0 "$VITAE" verify "$V/eddsa-jcs-2022/signedJCS.json"
stdout_has verify-w3c-vector "verified: yes"
expect verify-w3c-stdin 0 sh -c "\"$VITAE\" verify - < \"$V/eddsa-jcs-2022/signedJCS.json\""
expect verify-json 0 "$VITAE" verify --json "$V/eddsa-jcs-2022/signedJCS.json"
stdout_has verify-json '"version": 1'
stdout_has verify-json '"verified": true'
expect jcs-w3c 0 "$VITAE" jcs "$V/unsigned.json"
same_file jcs-w3c-golden "$T/out" "$V/eddsa-jcs-2022/canonDocJCS.txt"
for f in arrays french structures unicode values weird; do
    expect "jcs-rfc8785-$f" 0 "$VITAE" jcs "$SHARED/vectors/jcs/input/$f.json"
    same_file "jcs-rfc8785-$f-golden" "$T/out" "$SHARED/vectors/jcs/output/$f.json"
done

# --- round trips in every format and algorithm
for key in "$V/keyPair.json" "$HERE/keys/ed25519.jwk.json" "$HERE/keys/es256.jwk.json" \
    "$HERE/keys/rs256.jwk.json"; do
    kn=$(basename "$key" .json)
    for fmt in di jwt cose; do
        case "$kn:$fmt" in es256*:di | rs256*:di) continue ;; esac
        expect "sign-$kn-$fmt" 0 "$VITAE" sign --format "$fmt" --key "$key" "$V/unsigned.json" &&
            cp "$T/out" "$T/signed.$fmt" &&
            expect "verify-$kn-$fmt" 0 "$VITAE" verify --key "$key" "$T/signed.$fmt"
    done
done
expect sign-vc-claim 0 "$VITAE" sign --format jwt --vc-claim --key "$V/keyPair.json" \
    "$V/unsigned.json" && cp "$T/out" "$T/vc.jwt" &&
    expect verify-vc-claim 0 "$VITAE" verify "$T/vc.jwt"
# ES256 needs its own key: a wrong trusted key fails, no key is unresolvable.
"$VITAE" sign --format jwt --key "$HERE/keys/es256.jwk.json" "$V/unsigned.json" >"$T/es.jwt"
expect verify-es256-no-key 1 "$VITAE" verify "$T/es.jwt"
expect verify-es256-wrong-key 1 "$VITAE" verify --key "$HERE/keys/rs256.pub.jwk.json" "$T/es.jwt"
expect verify-es256-public-key 0 "$VITAE" verify --key "$HERE/keys/es256.pub.jwk.json" "$T/es.jwt"

# --- refusals
expect sign-alg-mismatch 64 "$VITAE" sign --alg ES256 --key "$V/keyPair.json" "$V/unsigned.json"
expect sign-di-with-rsa 64 "$VITAE" sign --key "$HERE/keys/rs256.jwk.json" "$V/unsigned.json"
expect sign-public-key 65 "$VITAE" sign --key "$HERE/keys/es256.pub.jwk.json" --format jwt \
    "$V/unsigned.json"
expect sign-no-key 64 "$VITAE" sign "$V/unsigned.json"
expect sign-bad-format 64 "$VITAE" sign --format xml --key "$V/keyPair.json" "$V/unsigned.json"
expect verify-missing 66 "$VITAE" verify "$T/does-not-exist.json"
expect verify-missing-json 66 "$VITAE" verify --json "$T/does-not-exist.json"
stdout_has verify-missing-json '"version": 1'
stdout_has verify-missing-json '"verified": false'
printf '{"a":' >"$T/broken.json"
expect verify-malformed 65 "$VITAE" verify "$T/broken.json"
expect verify-malformed-json 65 "$VITAE" verify --json "$T/broken.json"
stdout_has verify-malformed-json 'PARSING_ERROR'
printf '{"a":1,"a":2}' >"$T/dup.json"
expect verify-duplicate 65 "$VITAE" verify "$T/dup.json"
expect jcs-duplicate 65 "$VITAE" jcs "$T/dup.json"
sed 's/The School of Examples/The School of Exampler/' "$V/eddsa-jcs-2022/signedJCS.json" \
    >"$T/tampered.json"
expect verify-tampered 1 "$VITAE" verify "$T/tampered.json"
stdout_has verify-tampered "invalid signature"
# alg "none": header {"alg":"none"}, payload the unsigned credential, empty signature.
hdr=$(printf '{"alg":"none"}' | base64 | tr '+/' '-_' | tr -d '=\n')
body=$("$VITAE" jcs "$V/unsigned.json" | base64 | tr '+/' '-_' | tr -d '=\n')
printf '%s.%s.' "$hdr" "$body" >"$T/none.jwt"
expect verify-alg-none 1 "$VITAE" verify "$T/none.jwt"
stdout_has verify-alg-none "unsecured JWT refused"
expect verify-garbage 65 "$VITAE" verify "$HERE/test_vitae.sh"

# --- Open Badges samples and status
expect verify-ob-rdfc 1 "$VITAE" verify "$OB/simple.json"
stdout_has verify-ob-rdfc "unsupported cryptosuite"
LIST_URL=https://raw.githubusercontent.com/1EdTech/digital-credentials-public-validator/refs/heads/main/inspector-vc/src/test/resources/ob30/bit-string-list/testlist
expect verify-ob-revoked 1 "$VITAE" verify \
    --status-list "$LIST_URL=$SHARED/vectors/bitstring-status-list/testlist" \
    "$SHARED/vectors/bitstring-status-list/credential-status-revoked.json"
stdout_has verify-ob-revoked "index 23"

# --- usage and help
expect no-command 64 "$VITAE"
expect unknown-command 64 "$VITAE" frobnicate
expect top-help 0 "$VITAE" --help
stdout_has top-help "usage: vitae"
for c in sign verify jcs; do
    expect "help-$c" 0 "$VITAE" "$c" --help
    stdout_has "help-$c" "usage: vitae $c"
    expect "help-short-$c" 0 "$VITAE" "$c" -h
done
expect verify-bad-option 64 "$VITAE" verify --frob x

echo "$count cases, $failures failures"
[ "$failures" = 0 ]

#!/bin/sh
# CLI cases for the wallet: keystore, passphrase sources (a pseudo-terminal too), keys,
# backups, the credential store, presentations, every exit code, the --json contract with
# golden files, and --help against the man pages.
# usage: test_wallet.sh VITAE_BINARY CLI_HELPER SOURCE_DIR

VITAE=$1
HELPER=$2
SRC=$3
HERE=$SRC/tests/cli
GOLDEN=$HERE/golden
MAN=$SRC/wallet-cli/man

T=$(mktemp -d) || exit 1
trap 'rm -rf "$T"; [ -n "$SILENT" ] && kill "$SILENT" 2>/dev/null' EXIT
failures=0
count=0
unset VITAE_PASSPHRASE VITAE_WALLET XDG_DATA_HOME VITAE_TIMEOUT
HOME=$T/home
export HOME
mkdir -p "$HOME"
PASS=$T/pass
printf 'correct horse battery\n' >"$PASS"
printf 'wrong horse\n' >"$T/wrong"
W=$T/w
SEED_JWK=1R9BwDZ0OfAZbP4TxAt7wRlUz-gD7wpNX5H0eqKoTB4
DID=did:key:z6MktsJaYzYD7Rft1vgddELHugoFybCw3c93rUyDjLHKkaME

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

fail() {
    echo "FAIL $1: $2"
    failures=$((failures + 1))
}

has() { # has NAME FILE TEXT
    grep -qF -- "$3" "$2" || {
        fail "$1" "$2 lacks '$3'"
        sed 's/^/  | /' "$2" | head -20
    }
}

lacks() { # lacks NAME FILE TEXT
    if grep -qF -- "$3" "$2"; then
        fail "$1" "$2 contains '$3'"
    fi
}

# The last stdout is exactly one JSON document with "version": 1.
one_json() {
    "$VITAE" jcs "$T/out" >/dev/null 2>&1 || fail "$1" "stdout is not one JSON document"
    has "$1" "$T/out" '"version": 1'
}

# Compares the last stdout, with times and temporary paths normalized, to a golden file.
golden() {
    sed -e 's/"created": "[^"]*"/"created": "<time>"/' -e "s|$T|<tmp>|g" "$T/out" >"$T/norm"
    # VITAE_GOLDEN_UPDATE=1 rewrites the golden files (review the diff before keeping it).
    [ -n "$VITAE_GOLDEN_UPDATE" ] && cp "$T/norm" "$GOLDEN/$2"
    if ! cmp -s "$T/norm" "$GOLDEN/$2"; then
        fail "$1" "differs from golden/$2"
        diff "$GOLDEN/$2" "$T/norm" | head -20
    fi
}

v() {
    "$VITAE" --wallet "$W" --passphrase-file "$PASS" "$@"
}

# --- keystore and init
expect init-import 0 v --json init --import "$HERE/keys/ed25519.jwk.json" && golden init-golden init.json
one_json init-json
[ "$(stat -c %a "$W/key")" = 600 ] || fail keystore-mode "key is not 0600"
[ "$(stat -c %a "$W")" = 700 ] || fail wallet-mode "wallet directory is not 0700"
[ "$(stat -c %s "$W/key")" = 184 ] || fail keystore-size "key is not 184 bytes"
head -c 8 "$W/key" | grep -q '^vitae-ks$' || fail keystore-magic "bad magic"
seed_hex=$(printf '%s=' "$SEED_JWK" | tr '_-' '/+' | base64 -d | od -An -tx1 | tr -d ' \n')
key_hex=$(od -An -tx1 "$W/key" | tr -d ' \n')
case "$key_hex" in *"$seed_hex"*) fail keystore-secret "the seed is stored in the clear" ;; esac
lacks keystore-passphrase "$W/key" "correct horse"
expect init-exists 65 v init --import "$HERE/keys/ed25519.jwk.json"
has init-exists "$T/err" "--force"
expect init-bad-kdf 64 v init --kdf quick
expect init-public-key 65 v init --force --import "$HERE/keys/es256.pub.jwk.json"
expect init-es256 65 v init --force --import "$HERE/keys/es256.jwk.json"
has init-es256 "$T/err" "Ed25519"

# whoami needs no passphrase: the public key is in the clear part of the keystore.
expect whoami 0 "$VITAE" --wallet "$W" whoami
has whoami "$T/out" "$DID"
expect whoami-json 0 "$VITAE" --json --wallet "$W" whoami && golden whoami-golden whoami.json
expect whoami-env 0 env VITAE_WALLET="$W" "$VITAE" whoami
has whoami-env "$T/out" "$DID"
expect init-xdg 0 env XDG_DATA_HOME="$T/xdg" VITAE_PASSPHRASE=x "$VITAE" init
[ -f "$T/xdg/vitae/key" ] || fail init-xdg "no keystore under XDG_DATA_HOME/vitae"
expect init-home 0 env VITAE_PASSPHRASE=x "$VITAE" init
[ -f "$HOME/.local/share/vitae/key" ] || fail init-home "no keystore under ~/.local/share/vitae"
expect no-wallet 66 "$VITAE" --wallet "$T/none" whoami
has no-wallet "$T/err" "vitae init"
expect no-home 78 env -u HOME "$VITAE" whoami

# --- passphrases: wrong, missing, empty; the secret is unlocked before anything else
expect wrong-present 77 "$VITAE" --wallet "$W" --passphrase-file "$T/wrong" present \
    --challenge x --domain y
has wrong-present "$T/err" "wrong passphrase"
expect wrong-present-json 77 "$VITAE" --json --wallet "$W" --passphrase-file "$T/wrong" \
    present --challenge x --domain y && golden wrong-golden error-wrong-passphrase.json
one_json wrong-present-json
lacks wrong-no-secret "$T/out" "$SEED_JWK"
expect wrong-env 77 env VITAE_PASSPHRASE=nope "$VITAE" --wallet "$W" key export --secret
lacks wrong-env-no-secret "$T/out" "secret"
expect wrong-sign-consent 77 env VITAE_PASSPHRASE=nope "$VITAE" --wallet "$W" consent grant \
    --scope twin.read "$DID"
expect wrong-records 77 env VITAE_PASSPHRASE=nope "$VITAE" --wallet "$W" records
printf '\n' >"$T/empty"
expect empty-passphrase 65 "$VITAE" --wallet "$W" --passphrase-file "$T/empty" key export \
    --secret
expect missing-passphrase-file 66 "$VITAE" --wallet "$W" --passphrase-file "$T/nope" key \
    export --secret
if command -v setsid >/dev/null 2>&1; then
    expect no-passphrase-source 77 setsid -w "$VITAE" --wallet "$W" present --challenge x \
        --domain y </dev/null
    has no-passphrase-source "$T/err" "VITAE_PASSPHRASE"
fi

# --- the prompt on a terminal (no echo)
expect pty-init 0 "$HELPER" pty -s 'tty secret 1' -s 'tty secret 1' -- "$VITAE" --wallet \
    "$T/ptyw" init
has pty-init "$T/out" "New passphrase"
has pty-init "$T/out" "Repeat the passphrase"
lacks pty-init-no-echo "$T/out" "tty secret"
expect pty-unlock 0 "$HELPER" pty -s 'tty secret 1' -- "$VITAE" --wallet "$T/ptyw" key export \
    --secret
has pty-unlock "$T/out" "secretKeyMultibase"
lacks pty-unlock-no-echo "$T/out" "tty secret"
expect pty-wrong 77 "$HELPER" pty -s 'tty secret 2' -- "$VITAE" --wallet "$T/ptyw" present \
    --challenge x --domain y
lacks pty-wrong-no-echo "$T/out" "tty secret"
expect pty-mismatch 65 "$HELPER" pty -s 'one' -s 'two' -- "$VITAE" --wallet "$T/ptyw2" init
[ ! -f "$T/ptyw2/key" ] || fail pty-mismatch "a keystore was written"

# --- keys: export, rotate, history
expect key-export 0 v key export && golden key-export-golden key-export.json
expect key-export-jwk 0 v --json key export --jwk && golden key-export-jwk-golden key-export-jwk.json
expect key-export-secret 0 v key export --secret
has key-export-secret "$T/out" "secretKeyMultibase"
cp "$T/out" "$T/exported.json"
expect key-export-secret-jwk 0 v key export --secret --jwk
has key-export-secret-jwk "$T/out" "\"d\": \"$SEED_JWK\""
expect key-reimport 0 "$VITAE" --wallet "$T/re" --passphrase-file "$PASS" init --import \
    "$T/exported.json"
has key-reimport "$T/out" "$DID"
expect key-bad-sub 64 v key frob
expect key-rotate 0 v key rotate
has key-rotate "$T/out" "$DID"
expect key-list 0 v --json key list
has key-list "$T/out" "$DID"
[ "$(grep -c '"did"' "$T/out")" = 2 ] || fail key-list "expected two keys"
expect key-rotated-whoami 0 v whoami
lacks key-rotated-whoami "$T/out" "$DID"
[ "$(ls "$W/keys" | wc -l)" = 1 ] || fail key-history "the old keystore is not in keys/"

# --- backup and restore
expect backup 0 v backup "$T/b.vbk"
[ "$(stat -c %a "$T/b.vbk")" = 600 ] || fail backup-mode "backup is not 0600"
lacks backup-sealed "$T/b.vbk" "vitae-ks"
expect backup-exists 65 v backup "$T/b.vbk"
expect backup-wrong 77 "$VITAE" --wallet "$W" --passphrase-file "$T/wrong" backup "$T/b2.vbk"
[ ! -f "$T/b2.vbk" ] || fail backup-wrong "a backup was written"
expect restore 0 "$VITAE" --wallet "$T/r" --passphrase-file "$PASS" --json restore "$T/b.vbk"
one_json restore-json
"$VITAE" --wallet "$W" whoami >"$T/a" && "$VITAE" --wallet "$T/r" whoami >"$T/b"
head -1 "$T/a" >"$T/a1"
head -1 "$T/b" >"$T/b1"
cmp -s "$T/a1" "$T/b1" || fail restore-same-did "restored wallet has another key"
[ "$(ls "$T/r/keys" | wc -l)" = 1 ] || fail restore-history "key history not restored"
expect restore-wrong 77 "$VITAE" --wallet "$T/r2" --passphrase-file "$T/wrong" restore "$T/b.vbk"
[ ! -f "$T/r2/key" ] || fail restore-wrong "files were written"
expect restore-exists 65 "$VITAE" --wallet "$T/r" --passphrase-file "$PASS" restore "$T/b.vbk"
expect restore-force 0 "$VITAE" --wallet "$T/r" --passphrase-file "$PASS" restore --force \
    "$T/b.vbk"
expect restore-garbage 65 "$VITAE" --wallet "$T/r3" --passphrase-file "$PASS" restore \
    "$HERE/test_wallet.sh"
expect restore-missing 66 "$VITAE" --wallet "$T/r3" --passphrase-file "$PASS" restore "$T/none"
# A flipped byte in the sealed part fails like a wrong passphrase: it cannot be told apart.
cp "$T/b.vbk" "$T/flip.vbk"
byte=$(od -An -tx1 -j100 -N1 "$T/flip.vbk" | tr -d ' ')
if [ "$byte" = 58 ]; then new=Y; else new=X; fi
printf '%s' "$new" | dd of="$T/flip.vbk" bs=1 seek=100 conv=notrunc 2>/dev/null
expect restore-tampered 77 "$VITAE" --wallet "$T/r4" --passphrase-file "$PASS" restore \
    "$T/flip.vbk"

# --- credentials: an issuer wallet signs, the learner keeps and presents
# The issuer signs with the fixed test key, so that the listing below is a stable golden file;
# the holder is the wallet's rotated key.
cp "$HERE/keys/ed25519.jwk.json" "$T/issuer-key.json"
ISSUER=$DID
HOLDER=$("$VITAE" --wallet "$W" whoami | head -1)
cat >"$T/cred.json" <<EOF
{"@context": ["https://www.w3.org/ns/credentials/v2"],
 "id": "urn:uuid:8a3a2f0e-1c1d-4d0e-9c55-1d1f0c0a0b01",
 "type": ["VerifiableCredential"], "name": "Fractions",
 "issuer": "$ISSUER", "validFrom": "2024-01-01T00:00:00Z",
 "credentialSubject": {"id": "$HOLDER", "skill": "fractions"}}
EOF
"$VITAE" sign --key "$T/issuer-key.json" "$T/cred.json" >"$T/cred.signed.json"
"$VITAE" sign --format jwt --key "$T/issuer-key.json" "$T/cred.json" >"$T/cred.jwt"
expect creds-empty 0 v --json credentials list && golden creds-empty-golden credentials-empty.json
expect creds-import 0 v credentials import "$T/cred.signed.json"
has creds-import "$T/out" "imported"
LOCAL=$(sed -n 's/^imported \([0-9a-f]*\).*/\1/p' "$T/out")
expect creds-import-jwt 0 v credentials import - <"$T/cred.jwt"
has creds-import-jwt "$T/out" "updated"
expect creds-list 0 v --json credentials list && golden creds-list-golden credentials-list.json
expect creds-show 0 v credentials show "$LOCAL"
has creds-show "$T/out" "urn:uuid:8a3a2f0e"
expect creds-show-by-id 0 v credentials show urn:uuid:8a3a2f0e-1c1d-4d0e-9c55-1d1f0c0a0b01
expect creds-export-jwt 0 v credentials export --format jwt "$LOCAL"
cmp -s "$T/out" "$T/cred.jwt" || fail creds-export-jwt "exported JWT differs"
expect creds-export-cose 66 v credentials export --format cose "$LOCAL"
has creds-export-cose "$T/err" "cose"
expect creds-export-json 0 v credentials export "$LOCAL"
cp "$T/out" "$T/exported-cred.json"
expect creds-export-verifies 0 "$VITAE" verify "$T/exported-cred.json"
expect creds-unknown 66 v credentials show ffff0000
expect creds-garbage 65 v credentials import "$HERE/test_wallet.sh"
expect creds-not-vc 65 v credentials import "$HERE/keys/ed25519.jwk.json"
expect creds-bad-format 64 v credentials export --format xml "$LOCAL"

# --- presentations
expect present 0 v present --challenge ch-1 --domain employer.example
cp "$T/out" "$T/vp.json"
has present "$T/out" '"challenge": "ch-1"'
has present "$T/out" '"proofPurpose": "authentication"'
expect present-verify 0 "$VITAE" verify --challenge ch-1 --domain employer.example "$T/vp.json"
has present-verify "$T/out" "verified: yes"
expect present-wrong-challenge 1 "$VITAE" verify --challenge ch-2 --domain employer.example \
    "$T/vp.json"
expect present-wrong-domain 1 "$VITAE" verify --json --challenge ch-1 --domain evil.example \
    "$T/vp.json"
one_json present-wrong-domain-json
sed 's/fractions/algebra/' "$T/vp.json" >"$T/vp-tampered.json"
expect present-tampered 1 "$VITAE" verify --challenge ch-1 --domain employer.example \
    "$T/vp-tampered.json"
expect present-chosen 0 v --json present --challenge c --domain d --credential "$LOCAL"
one_json present-json
expect present-unknown 66 v present --challenge c --domain d --credential nope1234
expect present-no-challenge 64 v present --domain d
expect creds-remove 0 v credentials remove "$LOCAL"
expect present-none 66 v present --challenge c --domain d

# --- exit codes the server commands give without a server
expect not-connected 78 v records
has not-connected "$T/err" "vitae connect"
expect not-connected-json 78 v --json twin && golden not-connected-golden error-not-connected.json
"$HELPER" silent-server "$T/silent.port" &
SILENT=$!
while [ ! -s "$T/silent.port" ]; do sleep 0.1; done
SPORT=$(cat "$T/silent.port")
expect connect-timeout 75 env VITAE_TIMEOUT=1 "$VITAE" --wallet "$W" --passphrase-file "$PASS" \
    connect "ws://127.0.0.1:$SPORT"
kill "$SILENT"
wait "$SILENT" 2>/dev/null
SILENT=
expect connect-refused 69 v connect "ws://127.0.0.1:$SPORT"
has connect-refused "$T/err" "unavailable"
expect connect-bad-url 64 v connect "ftp://example"
expect connect-tls 78 v connect "wss://127.0.0.1:$SPORT"
expect output-error 74 sh -c "\"$VITAE\" --wallet \"$W\" whoami >/dev/full"
expect erase-no-server 78 v erase --yes

# --- usage
expect usage-unknown-command 64 "$VITAE" frobnicate
expect usage-unknown-command-json 64 "$VITAE" --json frobnicate
one_json usage-json
expect usage-bad-option 64 v whoami --frob
expect usage-bad-option-json 64 v --json init --frob && golden usage-golden error-usage.json
expect usage-extra-arg 64 v whoami extra
expect usage-records-limit 64 v records --limit 0
expect usage-consent-scope 64 v consent grant --scope everything "$DID"
expect usage-consent-audience 64 v consent grant --scope twin.read did:example:x
expect usage-twin-sub 64 v twin frob
expect usage-global-missing 64 "$VITAE" --wallet

# --- --help equals each man page's SYNOPSIS
[ -f "$MAN/vitae.1" ] || fail man-vitae "no vitae.1"
for c in $("$VITAE" --help | sed -n 's/^  \([a-z]*\)  .*/\1/p'); do
    page="$MAN/vitae-$c.1"
    count=$((count + 1))
    if [ ! -f "$page" ]; then
        fail "man-$c" "no man page vitae-$c.1"
        continue
    fi
    "$VITAE" "$c" --help | cut -c8- >"$T/help"
    sed -n '/^\.SH SYNOPSIS/,/^\.SH/p' "$page" | sed -n '/^\.nf/,/^\.fi/p' | sed '1d;$d' |
        sed -e 's/\\-/-/g' -e 's/\\fB//g' -e 's/\\fR//g' -e 's/\\fI//g' -e 's/\\&//g' >"$T/syn"
    if cmp -s "$T/help" "$T/syn"; then
        echo "ok   man-$c"
    else
        fail "man-$c" "--help differs from the SYNOPSIS of vitae-$c.1"
        diff "$T/syn" "$T/help" | head -10
    fi
    grep -qF "vitae\\-$c" "$MAN/vitae.1" || fail "man-$c-listed" "vitae.1 does not list vitae-$c(1)"
done

echo "$count cases, $failures failures"
[ "$failures" = 0 ]

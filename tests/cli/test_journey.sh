#!/bin/sh
# The learner's journey through the CLI against two vitaed started here on free loopback
# ports: init -> connect -> records -> a credential issued by the institution -> present ->
# the employer verifies -> export the twin -> verify it offline -> import it into the second
# vitaed -> read it there; plus consent, revocation, erasure and "server unavailable".
# usage: test_journey.sh VITAE VITAED CLI_HELPER SOURCE_DIR

VITAE=$1
VITAED=$2
SRC=$4

T=$(mktemp -d) || exit 1
A_PID=
B_PID=
cleanup() {
    [ -n "$A_PID" ] && kill "$A_PID" 2>/dev/null
    [ -n "$B_PID" ] && kill "$B_PID" 2>/dev/null
    wait 2>/dev/null
    rm -rf "$T"
}
trap cleanup EXIT
failures=0
count=0
unset VITAE_WALLET XDG_DATA_HOME VITAE_TIMEOUT
HOME=$T/home
VITAE_PASSPHRASE='journey passphrase'
export HOME VITAE_PASSPHRASE

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

has() {
    grep -qF -- "$3" "$2" || {
        fail "$1" "$2 lacks '$3'"
        sed 's/^/  | /' "$2" | head -20
    }
}

# A string member of the JSON in $T/out (first occurrence).
member() {
    sed -n "s/^ *\"$1\": \"\([^\"]*\)\".*/\1/p" "$T/out" | head -1
}

# start NAME: vitaed on a free port in $T/NAME; sets PORT and PID.
start() {
    mkdir -p "$T/$1"
    "$VITAED" --data "$T/$1/data" --listen 127.0.0.1:0 --port-file "$T/$1/port" \
        >"$T/$1/out.log" 2>"$T/$1/err.log" &
    PID=$!
    # Readiness, not timing: the port file appears once the listener is up.
    i=0
    while [ ! -s "$T/$1/port" ] && [ $i -lt 600 ] && kill -0 "$PID" 2>/dev/null; do
        sleep 0.1
        i=$((i + 1))
    done
    if [ ! -s "$T/$1/port" ]; then
        echo "FAIL start-$1: vitaed did not start"
        cat "$T/$1/err.log"
        exit 1
    fi
    PORT=$(cat "$T/$1/port")
}

start a
A_PID=$PID
A=ws://127.0.0.1:$PORT
start b
B_PID=$PID
B=ws://127.0.0.1:$PORT

L="$VITAE --wallet $T/learner"
IA="$VITAE --wallet $T/inst-a"
IB="$VITAE --wallet $T/inst-b"
EMP="$VITAE --wallet $T/employer"

# --- the institutions: their administrators' keys, imported into wallets
expect inst-a-init 0 $IA init --import "$T/a/data/admin.key"
expect inst-a-connect 0 $IA connect "$A"
has inst-a-connect "$T/out" "admin"
expect inst-b-init 0 $IB init --import "$T/b/data/admin.key"
expect inst-b-connect 0 $IB connect "$B"
expect emp-init 0 $EMP init

# --- the learner: init, refused until registered, then connected
expect learner-init 0 $L --json init
DID=$(member did)
expect learner-connect-unknown 77 $L connect "$A"
has learner-connect-unknown "$T/err" "register"
expect register 0 $IA --json call admin.principal_create \
    "{\"did\":\"$DID\",\"roles\":[\"learner\"]}"
LEARNER=$(member learner)
expect learner-connect 0 $L connect "$A"
has learner-connect "$T/out" "$LEARNER"
expect learner-whoami 0 $L --json whoami
has learner-whoami "$T/out" "\"learner\": \"$LEARNER\""
has learner-whoami "$T/out" "\"server\": \"$A\""

# --- records: the LMS writes, the learner reads
for n in 1 2 3; do
    expect "append-$n" 0 $IA call ledger.append \
        "{\"learner\":\"$LEARNER\",\"type\":\"xapi.statement\",\"payload\":{\"n\":$n}}"
done
expect records 0 $L records
has records "$T/out" "xapi.statement"
[ "$(grep -c xapi.statement "$T/out")" = 3 ] || fail records "expected 3 events"
expect records-page 0 $L records --limit 2
has records-page "$T/out" "vitae records --from 2"
expect records-json 0 $L --json records --all
has records-json "$T/out" '"version": 1'
has records-json "$T/out" '"head_seq": 2'
expect records-other 77 $L records --learner 00000000000000000000000000000000

# --- a credential issued by the institution, kept in the wallet
cat >"$T/issue.json" <<EOF
{"credential": {"@context": ["https://www.w3.org/ns/credentials/v2",
  "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"],
 "type": ["VerifiableCredential", "OpenBadgeCredential"],
 "credentialSubject": {"id": "$DID", "achievement": {"id": "urn:example:fractions",
  "type": "Achievement", "name": "Fractions", "description": "Adds fractions",
  "criteria": {"narrative": "Passes the fractions assessment"}}}},
 "options": {"learner": "$LEARNER", "evidence": [0, 1], "formats": ["di", "jwt", "cose"]}}
EOF
expect issue 0 $IA call credential.issue - <"$T/issue.json"
cp "$T/out" "$T/issued.json"
expect creds-import 0 $L credentials import "$T/issued.json"
has creds-import "$T/out" "[json,jwt,cose]"
CRED=$(sed -n 's/^imported \([0-9a-f]*\).*/\1/p' "$T/out")
expect creds-export-cose 0 $L credentials export --format cose "$CRED"
cp "$T/out" "$T/cred.cose"
expect creds-cose-verifies 0 "$VITAE" verify "$T/cred.cose"
expect creds-export-jwt 0 $L credentials export --format jwt "$CRED"
cp "$T/out" "$T/cred.jwt"
expect creds-jwt-verifies 0 "$VITAE" verify "$T/cred.jwt"

# --- present to an employer, who verifies (status lists fetched from the issuer)
expect present 0 $L present --challenge job-4711 --domain employer.example
cp "$T/out" "$T/vp.json"
expect employer-verifies 0 $EMP verify --challenge job-4711 --domain employer.example "$T/vp.json"
has employer-verifies "$T/out" "verified: yes"
expect employer-verifies-json 0 "$VITAE" verify --json --challenge job-4711 \
    --domain employer.example "$T/vp.json"
has employer-verifies-json "$T/out" '"verified": true'
expect employer-replay 1 "$VITAE" verify --challenge job-4712 --domain employer.example \
    "$T/vp.json"
expect employer-offline 1 "$VITAE" verify --offline --challenge job-4711 \
    --domain employer.example "$T/vp.json"
has employer-offline "$T/out" "status"

# --- the twin, and consent for the institution to read it
expect twin 0 $L twin
has twin "$T/out" "$LEARNER"
expect twin-json 0 $L --json twin show
has twin-json "$T/out" '"predictions"'
IADID=$($IA whoami | head -1)
expect consent-grant 0 $L --json consent grant --scope ledger.read,twin.read --days 7 "$IADID"
GRANT=$(member id)
expect consent-list 0 $L consent list
has consent-list "$T/out" "active"
expect consent-revoke 0 $L consent revoke "$GRANT"
expect consent-list-revoked 0 $L --json consent list
has consent-list-revoked "$T/out" '"state": "revoked"'
expect consent-revoke-again 65 $L consent revoke "$GRANT"

# --- export the twin, verify it offline, import it into the second vitaed
expect twin-export 0 $L twin export "$T/twin.vtb"
expect twin-verify 0 "$VITAE" twin verify "$T/twin.vtb"
has twin-verify "$T/out" "verified: yes"
has twin-verify "$T/out" "$LEARNER"
expect twin-verify-generic 0 "$VITAE" verify --json "$T/twin.vtb"
has twin-verify-generic "$T/out" '"verified": true'
size=$(stat -c %s "$T/twin.vtb")
cp "$T/twin.vtb" "$T/tampered.vtb"
byte=$(od -An -tx1 -j$((size - 40)) -N1 "$T/tampered.vtb" | tr -d ' ')
if [ "$byte" = 01 ]; then new='\002'; else new='\001'; fi
printf "$new" | dd of="$T/tampered.vtb" bs=1 seek=$((size - 40)) conv=notrunc 2>/dev/null
"$VITAE" twin verify "$T/tampered.vtb" >"$T/out" 2>"$T/err"
rc=$?
count=$((count + 1))
case $rc in 1 | 65) echo "ok   twin-verify-tampered" ;; *) fail twin-verify-tampered "exit $rc" ;; esac
expect twin-export-sealed 0 $L twin export --recipient self "$T/sealed.vtb"
expect twin-verify-sealed 65 "$VITAE" twin verify "$T/sealed.vtb"
has twin-verify-sealed "$T/err" "--unseal"
expect twin-verify-unseal 0 $L twin verify --unseal "$T/sealed.vtb"
expect twin-import 0 $IB twin import "$T/twin.vtb"
has twin-import "$T/out" "$LEARNER"
expect twin-import-again 0 $IB --json twin import "$T/twin.vtb"
has twin-import-again "$T/out" '"imported": 0'
expect twin-import-learner 77 $L twin import "$T/twin.vtb"
expect records-on-b 0 $IB records --learner "$LEARNER"
has records-on-b "$T/out" "credential.issued"
expect twin-import-garbage 65 $IB twin import "$T/issue.json"

# --- revocation makes the presentation fail
LIST=$(sed -n 's/^ *"list": \([0-9]*\).*/\1/p' "$T/issued.json" | head -1)
INDEX=$(sed -n 's/^ *"index": \([0-9]*\).*/\1/p' "$T/issued.json" | head -1)
expect revoke 0 $IA call credential.revoke "{\"list\": $LIST, \"index\": $INDEX}"
expect revoked-presentation 1 "$VITAE" verify --challenge job-4711 --domain employer.example \
    "$T/vp.json"
has revoked-presentation "$T/out" "revoked"

# --- readiness (HR) and erasure
expect readiness-unknown-role 66 $L readiness no-such-role
expect erase-learner-refused 77 $L erase --yes
has erase-learner-refused "$T/err" "administrator"
expect erase-needs-confirmation 64 setsid -w $IA erase --learner "$LEARNER" </dev/null
expect erase 0 $IA erase --yes --learner "$LEARNER"
expect records-erased 0 $L --json records
has records-erased "$T/out" '"erased": true'

# --- the server goes away
kill "$A_PID"
wait "$A_PID" 2>/dev/null
A_PID=
expect server-down 69 $L records
has server-down "$T/err" "unavailable"
expect server-down-json 69 $L --json twin
has server-down-json "$T/out" '"code": "unavailable"'

echo "$count cases, $failures failures"
[ "$failures" = 0 ]

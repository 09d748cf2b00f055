// Independent implementations for the credential cross-check: canonicalize (RFC 8785 by
// one of its authors), @noble/curves (Ed25519, P-256), jose (JWS) and cbor-x (CBOR).
// Usage: node crosscheck_node.mjs COMMAND ARGS...; exit 0 when the check holds.
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';

import canonicalizeModule from 'canonicalize';
import * as jose from 'jose';
import { Encoder, decode, Tag } from 'cbor-x';
import { ed25519 } from '@noble/curves/ed25519.js';
import { p256 } from '@noble/curves/nist.js';

const canonicalize = canonicalizeModule.default ?? canonicalizeModule;
const B58 = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz';

function b58encode(bytes) {
    let n = 0n;
    for (const b of bytes) n = n * 256n + BigInt(b);
    let s = '';
    while (n > 0n) {
        s = B58[Number(n % 58n)] + s;
        n /= 58n;
    }
    for (const b of bytes) {
        if (b !== 0) break;
        s = '1' + s;
    }
    return s;
}

function b58decode(s) {
    let n = 0n;
    for (const c of s) {
        const v = B58.indexOf(c);
        if (v < 0) throw new Error(`bad base58 character ${c}`);
        n = n * 58n + BigInt(v);
    }
    const out = [];
    while (n > 0n) {
        out.unshift(Number(n % 256n));
        n /= 256n;
    }
    for (const c of s) {
        if (c !== '1') break;
        out.unshift(0);
    }
    return Uint8Array.from(out);
}

const b64u = (s) => new Uint8Array(Buffer.from(s, 'base64url'));
const sha256 = (data) => new Uint8Array(createHash('sha256').update(data).digest());
const readJson = (path) => JSON.parse(readFileSync(path, 'utf8'));

function didKeyOf(pub) {
    return 'did:key:z' + b58encode(Uint8Array.from([0xed, 0x01, ...pub]));
}

function pubFromDidKeyVm(vm) {
    const mb = vm.split('#')[0].slice('did:key:'.length);
    if (mb[0] !== 'z') throw new Error('not base58btc');
    const raw = b58decode(mb.slice(1));
    if (raw[0] !== 0xed || raw[1] !== 0x01 || raw.length !== 34) throw new Error('not Ed25519');
    return raw.slice(2);
}

function diHashData(doc, proofConfig) {
    const proofHash = sha256(canonicalize(proofConfig));
    const docHash = sha256(canonicalize(doc));
    return Uint8Array.from([...proofHash, ...docHash]);
}

function verifyDi(path) {
    const signed = readJson(path);
    const { proof, ...doc } = signed;
    const { proofValue, ...config } = proof;
    if (config.cryptosuite !== 'eddsa-jcs-2022') throw new Error('unexpected suite');
    if (config['@context'] !== undefined) doc['@context'] = config['@context'];
    const sig = b58decode(proofValue.slice(1));
    const pub = pubFromDidKeyVm(config.verificationMethod);
    return ed25519.verify(sig, diHashData(doc, config), pub);
}

function signDi(docPath, jwkPath) {
    const doc = readJson(docPath);
    const jwk = readJson(jwkPath);
    const seed = b64u(jwk.d);
    const pub = ed25519.getPublicKey(seed);
    const did = didKeyOf(pub);
    const config = {
        type: 'DataIntegrityProof',
        cryptosuite: 'eddsa-jcs-2022',
        created: '2024-05-01T10:00:00Z',
        verificationMethod: `${did}#${did.slice('did:key:'.length)}`,
        proofPurpose: 'assertionMethod',
        '@context': doc['@context'],
    };
    const sig = ed25519.sign(diHashData(doc, config), seed);
    const proof = { ...config, proofValue: 'z' + b58encode(sig) };
    process.stdout.write(JSON.stringify({ ...doc, proof }));
    return true;
}

function publicJwk(jwk) {
    const { d, p, q, dp, dq, qi, ...pub } = jwk;
    return pub;
}

async function verifyJwt(path, jwkPath, alg) {
    const jwt = readFileSync(path, 'utf8').trim();
    const key = await jose.importJWK(publicJwk(readJson(jwkPath)), alg);
    const { payload, protectedHeader } = await jose.compactVerify(jwt, key, { algorithms: [alg] });
    const doc = JSON.parse(new TextDecoder().decode(payload));
    return protectedHeader.alg === alg && (doc.type !== undefined || doc.vc !== undefined);
}

async function signJwt(docPath, jwkPath, alg) {
    const doc = readFileSync(docPath);
    const key = await jose.importJWK(readJson(jwkPath), alg);
    const jwt = await new jose.CompactSign(doc)
        .setProtectedHeader({ alg, typ: 'vc+jwt' })
        .sign(key);
    process.stdout.write(jwt);
    return true;
}

const COSE_ALGS = { EdDSA: -8, ES256: -7 };
const encoder = new Encoder({ useRecords: false, mapsAsObjects: false, tagUint8Array: false });

function sigStructure(protectedBytes, payload) {
    return encoder.encode(['Signature1', protectedBytes, new Uint8Array(0), payload]);
}

function coseVerifyRaw(alg, jwk, message, signature) {
    if (alg === -8 || alg === -19) return ed25519.verify(signature, message, b64u(jwk.x));
    if (alg === -7) {
        const pub = Uint8Array.from([4, ...b64u(jwk.x), ...b64u(jwk.y)]);
        return p256.verify(signature, message, pub);
    }
    throw new Error(`alg ${alg} not cross-checked`);
}

function verifyCose(path, jwkPath) {
    const text = readFileSync(path, 'utf8').trim();
    const decoded = decode(b64u(text));
    if (!(decoded instanceof Tag) || decoded.tag !== 18) throw new Error('not a tagged COSE_Sign1');
    const [protectedBytes, unprotected, payload, signature] = decoded.value;
    const header = decode(protectedBytes);
    const get = (k) => (header instanceof Map ? header.get(k) : header[k]);
    const alg = get(1);
    if (get(16) !== 'application/vc+cose') throw new Error('unexpected typ');
    const unprot = unprotected instanceof Map ? unprotected.size : Object.keys(unprotected).length;
    if (unprot !== 0) throw new Error('unprotected header not empty');
    JSON.parse(new TextDecoder().decode(payload));
    return coseVerifyRaw(alg, readJson(jwkPath), sigStructure(protectedBytes, payload), signature);
}

function signCose(docPath, jwkPath, algName) {
    const jwk = readJson(jwkPath);
    const alg = COSE_ALGS[algName];
    const payload = new Uint8Array(readFileSync(docPath));
    const header = new Map([
        [1, alg],
        [3, 'application/vc'],
        [16, 'application/vc+cose'],
    ]);
    const protectedBytes = encoder.encode(header);
    const tbs = sigStructure(protectedBytes, payload);
    const signed = alg === -8 ? ed25519.sign(tbs, b64u(jwk.d)) : p256.sign(tbs, b64u(jwk.d));
    const sig = signed.toCompactRawBytes ? signed.toCompactRawBytes() : signed;
    const msg = encoder.encode(new Tag([protectedBytes, new Map(), payload, sig], 18));
    process.stdout.write(Buffer.from(msg).toString('base64url'));
    return true;
}

function prep(dir, edJwkPath) {
    const pub = b64u(readJson(edJwkPath).x);
    const base = {
        '@context': [
            'https://www.w3.org/ns/credentials/v2',
            'https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json',
        ],
        id: 'urn:uuid:7f4b6a2e-2c1d-4e5f-9a8b-1c2d3e4f5a6b',
        type: ['VerifiableCredential', 'OpenBadgeCredential'],
        name: 'Cross-check: Zürich €, 𝄞 and numbers',
        validFrom: '2024-01-01T00:00:00Z',
        credentialSubject: {
            id: 'did:example:learner',
            type: ['AchievementSubject'],
            score: 0.1,
            big: 1e21,
            tiny: 5e-7,
            'é': 'unicode key',
            achievement: {
                id: 'https://example.org/achievements/1',
                type: ['Achievement'],
                name: 'Cross-check',
                description: 'Signed by one implementation, verified by another.',
                criteria: { narrative: 'Run the test.' },
            },
        },
    };
    const issuer = (id) => ({ ...base, issuer: { id, type: ['Profile'] } });
    writeFileSync(`${dir}/doc-ed.json`, JSON.stringify(issuer(didKeyOf(pub))));
    writeFileSync(`${dir}/doc-url.json`, JSON.stringify(issuer('https://issuer.example')));
    return true;
}

function jcs(path, expectedPath) {
    return canonicalize(readJson(path)) === readFileSync(expectedPath, 'utf8');
}

const [cmd, ...args] = process.argv.slice(2);
const commands = {
    prep: () => prep(args[0], args[1]),
    'verify-di': () => verifyDi(args[0]),
    'sign-di': () => signDi(args[0], args[1]),
    'verify-jwt': () => verifyJwt(args[0], args[1], args[2]),
    'sign-jwt': () => signJwt(args[0], args[1], args[2]),
    'verify-cose': () => verifyCose(args[0], args[1]),
    'sign-cose': () => signCose(args[0], args[1], args[2]),
    jcs: () => jcs(args[0], args[1]),
};
try {
    const ok = await commands[cmd]();
    if (!ok) {
        console.error(`${cmd}: check failed`);
        process.exit(1);
    }
} catch (e) {
    console.error(`${cmd}: ${e.message}`);
    process.exit(1);
}

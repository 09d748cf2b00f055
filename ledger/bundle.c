/* Portable twin bundles: export, verification and import (specs/ledger.md §10). */
#include "ledger/ledger_int.h"

#include <stdlib.h>
#include <string.h>

#include <sodium.h>

/* Bundle map keys (specs/ledger.md §10.1). */
enum {
    BK_FORMAT = 1,
    BK_LEARNER = 2,
    BK_ORIGIN = 3,
    BK_KEY = 4,
    BK_CHECKPOINT = 5,
    BK_HEAD_INDEX = 6,
    BK_PROOF = 7,
    BK_EVENTS = 8,
    BK_EPHEMERAL = 9,
    BK_RECIPIENT = 10,
};

#define SEAL_DOMAIN "vitae/bundle-seal/v1\n"
#define SEAL_AD_LEN (LEDGER_LEARNER_LEN + 8 + LEDGER_HASH_LEN)
#define NOTE_MAX 8192
#define CBOR_NULL 0xf6

/* ---- sealing -------------------------------------------------------------------------- */

/* k = BLAKE2b-256(SEAL_DOMAIN ‖ X25519(secret, public) ‖ epk ‖ rpk); false for a low-order
 * public key, whose shared secret is all zeros. */
static bool seal_key(const uint8_t secret[VT_X25519_LEN], const uint8_t public[VT_X25519_LEN],
                     const uint8_t epk[VT_X25519_LEN], const uint8_t rpk[VT_X25519_LEN],
                     uint8_t k[crypto_aead_xchacha20poly1305_ietf_KEYBYTES])
{
    uint8_t shared[crypto_scalarmult_BYTES];
    if (crypto_scalarmult(shared, secret, public) != 0)
        return false;
    crypto_generichash_state h;
    crypto_generichash_init(&h, NULL, 0, crypto_aead_xchacha20poly1305_ietf_KEYBYTES);
    crypto_generichash_update(&h, (const uint8_t *)SEAL_DOMAIN, sizeof(SEAL_DOMAIN) - 1);
    crypto_generichash_update(&h, shared, sizeof(shared));
    crypto_generichash_update(&h, epk, VT_X25519_LEN);
    crypto_generichash_update(&h, rpk, VT_X25519_LEN);
    crypto_generichash_final(&h, k, crypto_aead_xchacha20poly1305_ietf_KEYBYTES);
    sodium_memzero(shared, sizeof(shared));
    sodium_memzero(&h, sizeof(h));
    return true;
}

static void seal_nonce(uint64_t position, uint8_t nonce[LEDGER_NONCE_LEN])
{
    memset(nonce, 0, LEDGER_NONCE_LEN);
    vt_be64_put(nonce, position);
}

static void seal_ad(const uint8_t learner[LEDGER_LEARNER_LEN], uint64_t seq,
                    const uint8_t leaf_hash[LEDGER_HASH_LEN], uint8_t ad[SEAL_AD_LEN])
{
    memcpy(ad, learner, LEDGER_LEARNER_LEN);
    vt_be64_put(ad + LEDGER_LEARNER_LEN, seq);
    memcpy(ad + LEDGER_LEARNER_LEN + 8, leaf_hash, LEDGER_HASH_LEN);
}

/* ---- writing -------------------------------------------------------------------------- */

/* A CBOR head in its shortest form (the bundle is written directly, as leaves are). */
static enum vt_status put_head(struct vt_buf *out, uint8_t mt, uint64_t v, struct vt_error *err)
{
    uint8_t h[9];
    size_t n;
    if (v < 24) {
        h[0] = (uint8_t)(mt << 5 | v);
        n = 1;
    } else if (v <= 0xff) {
        h[0] = (uint8_t)(mt << 5 | 24);
        h[1] = (uint8_t)v;
        n = 2;
    } else if (v <= 0xffff) {
        h[0] = (uint8_t)(mt << 5 | 25);
        vt_be16_put(h + 1, (uint16_t)v);
        n = 3;
    } else if (v <= 0xffffffffu) {
        h[0] = (uint8_t)(mt << 5 | 26);
        vt_be32_put(h + 1, (uint32_t)v);
        n = 5;
    } else {
        h[0] = (uint8_t)(mt << 5 | 27);
        vt_be64_put(h + 1, v);
        n = 9;
    }
    return vt_buf_append(out, h, n, err);
}

static enum vt_status put_bytes(struct vt_buf *out, const void *p, size_t n, struct vt_error *err)
{
    enum vt_status st = put_head(out, 2, n, err);
    return st == VT_OK ? vt_buf_append(out, p, n, err) : st;
}

static enum vt_status put_text(struct vt_buf *out, const char *s, struct vt_error *err)
{
    size_t n = strlen(s);
    enum vt_status st = put_head(out, 3, n, err);
    return st == VT_OK ? vt_buf_append(out, s, n, err) : st;
}

struct exporter {
    struct ledger *l;
    MDB_txn *txn;
    const uint8_t *learner;
    bool have_dek;
    uint8_t dek[LEDGER_DEK_LEN];
    bool sealed;
    uint8_t seal_k[crypto_aead_xchacha20poly1305_ietf_KEYBYTES];
    struct vt_buf pt; /* salt ‖ plaintext of the current payload */
};

/* Appends the event entry [leaf, payload] of the learner's event seq at index. */
static enum vt_status export_event(struct exporter *x, uint64_t seq, uint64_t index,
                                   uint8_t leaf_hash[LEDGER_HASH_LEN], struct vt_buf *out,
                                   struct vt_error *err)
{
    struct ledger *l = x->l;
    MDB_val leaf, val;
    enum vt_status st = ledger_get_leaf(l, x->txn, index, &leaf, err);
    struct ledger_event ev;
    if (st == VT_OK)
        st = ledger_leaf_open(leaf.mv_data, leaf.mv_size, &ev, NULL, NULL, NULL, err);
    if (st != VT_OK)
        return vt_error_prefix(err, st, "event %llu", (unsigned long long)index);
    if (ev.seq != seq || memcmp(ev.learner, x->learner, LEDGER_LEARNER_LEN) != 0)
        return vt_error_set(err, VT_ERR_VERIFY, "learner index points seq %llu at event %llu",
                            (unsigned long long)seq, (unsigned long long)index);
    ledger_leaf_hash(leaf.mv_data, leaf.mv_size, leaf_hash);
    if ((st = put_head(out, 4, 2, err)) != VT_OK ||
        (st = put_bytes(out, leaf.mv_data, leaf.mv_size, err)) != VT_OK)
        return st;
    uint8_t k[8];
    vt_be64_put(k, index);
    MDB_val key = {8, k};
    int rc = mdb_get(x->txn, l->db_payloads, &key, &val);
    if (rc == MDB_NOTFOUND ||
        (rc == 0 && val.mv_size == 1 && *(const uint8_t *)val.mv_data == LEDGER_PAYLOAD_ABSENT))
        return vt_buf_append_byte(out, CBOR_NULL, err);
    if (rc != 0)
        return ledger_mdb_error(rc, err, "read a payload");
    if (!x->have_dek)
        return vt_error_set(err, VT_ERR_VERIFY, "event %llu has a payload but no data key",
                            (unsigned long long)index);
    const uint8_t *rec = val.mv_data;
    uint8_t h[VT_SHA256_LEN];
    if (val.mv_size > 0 && rec[0] == LEDGER_PAYLOAD_NATIVE) {
        vt_sha256(rec + 1, val.mv_size - 1, h);
        if (sodium_memcmp(h, ev.payload_hash, sizeof(h)) != 0)
            return vt_error_set(err, VT_ERR_VERIFY, "payload of event %llu does not match its hash",
                                (unsigned long long)index);
    }
    vt_buf_reset(&x->pt);
    st = ledger_payload_open(x->dek, ev.learner, ev.seq, rec, val.mv_size, &x->pt, err);
    if (st != VT_OK)
        return vt_error_prefix(err, st, "event %llu", (unsigned long long)index);
    vt_sha256(x->pt.data, x->pt.len, h);
    if (sodium_memcmp(h, ev.commitment, sizeof(h)) != 0)
        return vt_error_set(err, VT_ERR_VERIFY,
                            "payload of event %llu does not match its commitment",
                            (unsigned long long)index);
    if (!x->sealed)
        return put_bytes(out, x->pt.data, x->pt.len, err);
    size_t clen = x->pt.len + LEDGER_TAG_LEN;
    if ((st = put_head(out, 2, clen, err)) != VT_OK || (st = vt_buf_grow(out, clen, err)) != VT_OK)
        return st;
    uint8_t nonce[LEDGER_NONCE_LEN], ad[SEAL_AD_LEN];
    seal_nonce(seq, nonce);
    seal_ad(ev.learner, ev.seq, leaf_hash, ad);
    crypto_aead_xchacha20poly1305_ietf_encrypt(out->data + out->len, NULL, x->pt.data, x->pt.len,
                                               ad, sizeof(ad), NULL, nonce, x->seal_k);
    out->len += clen;
    out->data[out->len] = 0;
    return VT_OK;
}

static enum vt_status export_body(struct exporter *x, uint64_t head_seq, uint64_t head_index,
                                  const uint8_t *epk, const uint8_t *rpk, struct vt_buf *out,
                                  struct vt_error *err)
{
    struct ledger *l = x->l;
    struct vt_buf note;
    vt_buf_init(&note, NOTE_MAX);
    struct ledger_checkpoint cp;
    uint8_t proof[LEDGER_PROOF_MAX][LEDGER_HASH_LEN];
    size_t proof_len = 0;
    enum vt_status st = ledger_latest_checkpoint_txn(l, x->txn, false, &note, &cp, err);
    if (st == VT_OK && head_index >= cp.size)
        st = vt_error_set(err, VT_ERR_VERIFY, "learner head is not under the newest checkpoint");
    if (st == VT_OK) {
        struct ledger_txn_reader tr;
        ledger_txn_reader_init(&tr, x->txn, l->db_hashes);
        st = ledger_prove_inclusion(&tr.r, cp.size, head_index, proof, &proof_len, err);
    }
    uint64_t events = head_seq + 1;
    if (st == VT_OK && (st = put_head(out, 5, x->sealed ? 10 : 8, err)) == VT_OK &&
        (st = put_head(out, 0, BK_FORMAT, err)) == VT_OK)
        st = put_text(out, LEDGER_BUNDLE_FORMAT, err);
    if (st == VT_OK && (st = put_head(out, 0, BK_LEARNER, err)) == VT_OK)
        st = put_bytes(out, x->learner, LEDGER_LEARNER_LEN, err);
    if (st == VT_OK && (st = put_head(out, 0, BK_ORIGIN, err)) == VT_OK)
        st = put_text(out, l->origin, err);
    if (st == VT_OK && (st = put_head(out, 0, BK_KEY, err)) == VT_OK)
        st = put_bytes(out, l->key.pk, VT_ED25519_PK_LEN, err);
    if (st == VT_OK && (st = put_head(out, 0, BK_CHECKPOINT, err)) == VT_OK)
        st = put_bytes(out, note.data, note.len, err);
    if (st == VT_OK && (st = put_head(out, 0, BK_HEAD_INDEX, err)) == VT_OK)
        st = put_head(out, 0, head_index, err);
    if (st == VT_OK && (st = put_head(out, 0, BK_PROOF, err)) == VT_OK)
        st = put_head(out, 4, proof_len, err);
    for (size_t i = 0; st == VT_OK && i < proof_len; i++)
        st = put_bytes(out, proof[i], LEDGER_HASH_LEN, err);
    if (st == VT_OK && (st = put_head(out, 0, BK_EVENTS, err)) == VT_OK)
        st = put_head(out, 4, events, err);
    uint8_t leaf_hash[LEDGER_HASH_LEN];
    for (uint64_t seq = 0; st == VT_OK && seq < events; seq++) {
        uint8_t k[LEDGER_LEARNER_LEN + 8];
        memcpy(k, x->learner, LEDGER_LEARNER_LEN);
        vt_be64_put(k + LEDGER_LEARNER_LEN, seq);
        MDB_val key = {sizeof(k), k}, val;
        int rc = mdb_get(x->txn, l->db_lseq, &key, &val);
        if (rc != 0 || val.mv_size != 8) {
            st = rc && rc != MDB_NOTFOUND
                     ? ledger_mdb_error(rc, err, "read the learner index")
                     : vt_error_set(err, VT_ERR_VERIFY, "learner index misses seq %llu",
                                    (unsigned long long)seq);
            break;
        }
        st = export_event(x, seq, vt_be64_get(val.mv_data), leaf_hash, out, err);
    }
    if (st == VT_OK && x->sealed) {
        if ((st = put_head(out, 0, BK_EPHEMERAL, err)) == VT_OK)
            st = put_bytes(out, epk, VT_X25519_LEN, err);
        if (st == VT_OK && (st = put_head(out, 0, BK_RECIPIENT, err)) == VT_OK)
            st = put_bytes(out, rpk, VT_X25519_LEN, err);
    }
    vt_buf_release(&note);
    return st;
}

enum vt_status ledger_bundle_export(struct ledger *l, const uint8_t learner[LEDGER_LEARNER_LEN],
                                    const uint8_t *recipient_x25519, struct vt_buf *out,
                                    struct vt_error *err)
{
    struct exporter x;
    memset(&x, 0, sizeof(x));
    x.l = l;
    x.learner = learner;
    vt_buf_init(&x.pt, VT_BUF_DEFAULT_MAX);
    uint8_t esk[VT_X25519_LEN], epk[VT_X25519_LEN];
    if (recipient_x25519) {
        x.sealed = true;
        crypto_box_keypair(epk, esk);
        bool ok = seal_key(esk, recipient_x25519, epk, recipient_x25519, x.seal_k);
        sodium_memzero(esk, sizeof(esk));
        if (!ok)
            return vt_error_set(err, VT_ERR_INVALID,
                                "cannot seal a bundle to a low-order X25519 key");
    }
    bool erased = false;
    struct vt_error kerr;
    enum vt_status st = ledger_dek_read(l, learner, x.dek, &erased, &kerr);
    if (st == VT_OK) {
        x.have_dek = !erased;
    } else if (st != VT_ERR_NOT_FOUND) {
        if (err)
            *err = kerr;
        goto out_key;
    }
    if (erased) {
        st = vt_error_set(err, VT_ERR_CONFLICT, "cannot export an erased learner");
        goto out_key;
    }
    if ((st = ledger_read_begin(l, &x.txn, err)) != VT_OK)
        goto out_key;
    MDB_val key = {LEDGER_LEARNER_LEN, (void *)learner}, val;
    int rc = mdb_get(x.txn, l->db_heads, &key, &val);
    if (rc != 0 || val.mv_size != LEDGER_HEAD_LEN) {
        st = rc == MDB_NOTFOUND ? vt_error_set(err, VT_ERR_NOT_FOUND, "learner has no events")
             : rc               ? ledger_mdb_error(rc, err, "read a learner head")
                                : vt_error_set(err, VT_ERR_INVALID, "learner head is malformed");
        goto out;
    }
    uint64_t head_seq = vt_be64_get(val.mv_data);
    uint64_t head_index = vt_be64_get((const uint8_t *)val.mv_data + 8);
    if (head_seq >= LEDGER_BUNDLE_EVENTS_MAX) {
        st = vt_error_set(err, VT_ERR_TOO_LARGE, "learner has %llu events, over the %d of a bundle",
                          (unsigned long long)head_seq + 1, LEDGER_BUNDLE_EVENTS_MAX);
        goto out;
    }
    /* Built apart so that a failure leaves out as it was, under the tighter of both caps. */
    struct vt_buf body;
    size_t room = out->max - out->len;
    vt_buf_init(&body, room < l->bundle_max ? room : l->bundle_max);
    st = export_body(&x, head_seq, head_index, epk, recipient_x25519, &body, err);
    if (st == VT_OK)
        st = vt_buf_append(out, body.data, body.len, err);
    vt_buf_release(&body);
out:
    ledger_read_end(l, x.txn);
out_key:
    sodium_memzero(x.dek, sizeof(x.dek));
    sodium_memzero(x.seal_k, sizeof(x.seal_k));
    vt_buf_release_secret(&x.pt);
    return st;
}

/* ---- reading -------------------------------------------------------------------------- */

/* A cursor over bytes that vt_cbor_check accepted, so heads are short and lengths fit; the
 * bounds are checked again anyway. */
struct cur {
    const uint8_t *p;
    size_t n, off;
};

static enum vt_status cur_head(struct cur *c, uint8_t mt, uint64_t *arg, const char *what,
                               struct vt_error *err)
{
    if (c->off >= c->n)
        return vt_error_set(err, VT_ERR_TRUNCATED, "bundle ends before %s", what);
    uint8_t ib = c->p[c->off], ai = ib & 0x1f;
    if (ib >> 5 != mt)
        return vt_error_set(err, VT_ERR_INVALID, "bundle %s at offset %zu has the wrong type", what,
                            c->off);
    size_t extra = ai < 24 ? 0 : ai == 24 ? 1 : ai == 25 ? 2 : ai == 26 ? 4 : ai == 27 ? 8 : 9;
    if (extra == 9 || c->n - c->off - 1 < extra)
        return vt_error_set(err, VT_ERR_INVALID, "bundle %s at offset %zu is malformed", what,
                            c->off);
    uint64_t v = ai;
    if (extra) {
        v = 0;
        for (size_t i = 0; i < extra; i++)
            v = v << 8 | c->p[c->off + 1 + i];
    }
    c->off += 1 + extra;
    *arg = v;
    return VT_OK;
}

static enum vt_status cur_bytes(struct cur *c, uint8_t mt, size_t min, size_t max,
                                const uint8_t **p, size_t *n, const char *what,
                                struct vt_error *err)
{
    uint64_t len;
    enum vt_status st = cur_head(c, mt, &len, what, err);
    if (st != VT_OK)
        return st;
    if (len > c->n - c->off)
        return vt_error_set(err, VT_ERR_TRUNCATED, "bundle %s runs past the end", what);
    if (len < min || len > max)
        return vt_error_set(err, VT_ERR_INVALID, "bundle %s has %llu bytes, want %zu..%zu", what,
                            (unsigned long long)len, min, max);
    *p = c->p + c->off;
    *n = (size_t)len;
    c->off += (size_t)len;
    return VT_OK;
}

struct bundle_event {
    const uint8_t *leaf;
    size_t leaf_len;
    const uint8_t *payload; /* NULL: none */
    size_t payload_len;
    struct ledger_event ev;
    uint8_t leaf_hash[LEDGER_HASH_LEN];
    const uint8_t *salt; /* into payload or the opened arena */
    const uint8_t *pt;
    size_t pt_len;
};

struct bundle {
    const uint8_t *learner;
    char origin[LEDGER_NOTE_NAME_MAX];
    const uint8_t *key;
    const uint8_t *note;
    size_t note_len;
    uint64_t head_index;
    uint8_t proof[LEDGER_PROOF_MAX][LEDGER_HASH_LEN];
    size_t proof_len;
    struct bundle_event *events;
    size_t n;
    const uint8_t *epk, *rpk;
    struct ledger_checkpoint cp;
};

static enum vt_status parse_event(struct cur *c, size_t i, struct bundle_event *e,
                                  struct vt_error *err)
{
    uint64_t len;
    enum vt_status st = cur_head(c, 4, &len, "event entry", err);
    if (st == VT_OK && len != 2)
        st = vt_error_set(err, VT_ERR_INVALID, "bundle event %zu is not [leaf, payload]", i);
    if (st == VT_OK)
        st = cur_bytes(c, 2, 1, LEDGER_LEAF_MAX, &e->leaf, &e->leaf_len, "event leaf", err);
    if (st != VT_OK)
        return vt_error_prefix(err, st, "bundle event %zu", i);
    if (c->off < c->n && c->p[c->off] == CBOR_NULL) {
        c->off++;
        return VT_OK;
    }
    st = cur_bytes(c, 2, LEDGER_SALT_LEN, SIZE_MAX, &e->payload, &e->payload_len, "event payload",
                   err);
    if (st != VT_OK)
        return vt_error_prefix(err, st, "bundle event %zu", i);
    return VT_OK;
}

static enum vt_status parse_bundle(const uint8_t *data, size_t n, struct bundle *b,
                                   struct vt_error *err)
{
    struct cur c = {data, n, 0};
    uint64_t count, key, v;
    const uint8_t *p;
    size_t len;
    enum vt_status st = cur_head(&c, 5, &count, "map", err);
    if (st != VT_OK)
        return st;
    if (count != 8 && count != 10)
        return vt_error_set(err, VT_ERR_INVALID, "bundle map has %llu entries, want 8 or 10",
                            (unsigned long long)count);
    for (uint64_t i = 0; i < count; i++) {
        if ((st = cur_head(&c, 0, &key, "map key", err)) != VT_OK)
            return st;
        /* Canonical order makes the keys ascending, so position names the key. */
        if (key != i + 1)
            return vt_error_set(err, VT_ERR_INVALID, "bundle map key %llu where %llu belongs",
                                (unsigned long long)key, (unsigned long long)i + 1);
        switch (key) {
        case BK_FORMAT:
            st = cur_bytes(&c, 3, 0, 64, &p, &len, "format", err);
            if (st == VT_OK &&
                (len != strlen(LEDGER_BUNDLE_FORMAT) || memcmp(p, LEDGER_BUNDLE_FORMAT, len) != 0))
                st = vt_error_set(err, VT_ERR_UNSUPPORTED, "not a '%s' bundle",
                                  LEDGER_BUNDLE_FORMAT);
            break;
        case BK_LEARNER:
            st = cur_bytes(&c, 2, LEDGER_LEARNER_LEN, LEDGER_LEARNER_LEN, &b->learner, &len,
                           "learner", err);
            break;
        case BK_ORIGIN:
            st = cur_bytes(&c, 3, 1, LEDGER_NOTE_NAME_MAX - 1, &p, &len, "origin", err);
            if (st == VT_OK) {
                memcpy(b->origin, p, len);
                b->origin[len] = 0;
            }
            break;
        case BK_KEY:
            st = cur_bytes(&c, 2, VT_ED25519_PK_LEN, VT_ED25519_PK_LEN, &b->key, &len,
                           "service key", err);
            break;
        case BK_CHECKPOINT:
            st = cur_bytes(&c, 2, 1, NOTE_MAX, &b->note, &b->note_len, "checkpoint", err);
            break;
        case BK_HEAD_INDEX:
            st = cur_head(&c, 0, &b->head_index, "head index", err);
            break;
        case BK_PROOF:
            st = cur_head(&c, 4, &v, "proof", err);
            if (st == VT_OK && v > LEDGER_PROOF_MAX)
                st = vt_error_set(err, VT_ERR_INVALID, "bundle proof has %llu hashes",
                                  (unsigned long long)v);
            b->proof_len = (size_t)v;
            for (size_t j = 0; st == VT_OK && j < b->proof_len; j++) {
                st =
                    cur_bytes(&c, 2, LEDGER_HASH_LEN, LEDGER_HASH_LEN, &p, &len, "proof hash", err);
                if (st == VT_OK)
                    memcpy(b->proof[j], p, LEDGER_HASH_LEN);
            }
            break;
        case BK_EVENTS:
            st = cur_head(&c, 4, &v, "events", err);
            if (st == VT_OK && (v == 0 || v > LEDGER_BUNDLE_EVENTS_MAX))
                st = vt_error_set(err, v ? VT_ERR_TOO_LARGE : VT_ERR_INVALID,
                                  "bundle holds %llu events, want 1..%d", (unsigned long long)v,
                                  LEDGER_BUNDLE_EVENTS_MAX);
            if (st != VT_OK)
                break;
            b->n = (size_t)v;
            b->events = vt_calloc(b->n, sizeof(*b->events));
            for (size_t j = 0; st == VT_OK && j < b->n; j++)
                st = parse_event(&c, j, &b->events[j], err);
            break;
        case BK_EPHEMERAL:
            st =
                cur_bytes(&c, 2, VT_X25519_LEN, VT_X25519_LEN, &b->epk, &len, "ephemeral key", err);
            break;
        case BK_RECIPIENT:
            st =
                cur_bytes(&c, 2, VT_X25519_LEN, VT_X25519_LEN, &b->rpk, &len, "recipient key", err);
            break;
        }
        if (st != VT_OK)
            return st;
    }
    if (c.off != n)
        return vt_error_set(err, VT_ERR_INVALID, "bundle has %zu trailing bytes", n - c.off);
    return VT_OK;
}

static enum vt_status check_checkpoint(struct bundle *b, struct vt_error *err)
{
    size_t text_len;
    enum vt_status st =
        ledger_note_verify((const char *)b->note, b->note_len, b->origin, b->key, &text_len, err);
    if (st != VT_OK)
        return vt_error_prefix(err, st, "bundle checkpoint does not verify under its service key");
    st = ledger_checkpoint_parse((const char *)b->note, text_len, &b->cp, err);
    if (st != VT_OK)
        return vt_error_prefix(err, st, "bundle checkpoint");
    if (strcmp(b->cp.origin, b->origin) != 0)
        return vt_error_set(err, VT_ERR_VERIFY, "bundle checkpoint names origin '%s', not '%s'",
                            b->cp.origin, b->origin);
    return VT_OK;
}

/* Opens (when sealed) and checks every payload against its event's commitment. */
static enum vt_status check_payloads(struct bundle *b, const uint8_t *k, size_t payload_max,
                                     struct vt_buf *arena, struct vt_error *err)
{
    static const uint8_t zero_salt[LEDGER_SALT_LEN];
    size_t need = 0;
    for (size_t i = 0; i < b->n; i++)
        need += b->events[i].payload_len; /* bounded by the bundle's size */
    /* Grown once, so that the pointers handed out below stay valid. */
    enum vt_status st = k && need ? vt_buf_grow(arena, need, err) : VT_OK;
    if (st != VT_OK)
        return st;
    for (size_t i = 0; i < b->n; i++) {
        struct bundle_event *e = &b->events[i];
        if (!e->payload)
            continue;
        const uint8_t *m = e->payload;
        size_t mlen = e->payload_len;
        if (k) {
            if (mlen < LEDGER_SALT_LEN + LEDGER_TAG_LEN)
                return vt_error_set(err, VT_ERR_INVALID, "sealed payload of event %zu too short",
                                    i);
            uint8_t nonce[LEDGER_NONCE_LEN], ad[SEAL_AD_LEN];
            seal_nonce(e->ev.seq, nonce);
            seal_ad(e->ev.learner, e->ev.seq, e->leaf_hash, ad);
            uint8_t *dst = arena->data + arena->len;
            mlen -= LEDGER_TAG_LEN;
            if (crypto_aead_xchacha20poly1305_ietf_decrypt(
                    dst, NULL, NULL, e->payload, e->payload_len, ad, sizeof(ad), nonce, k) != 0)
                return vt_error_set(err, VT_ERR_VERIFY,
                                    "sealed payload of event %zu does not open with this "
                                    "recipient key",
                                    i);
            arena->len += mlen;
            m = dst;
        }
        if (mlen - LEDGER_SALT_LEN > payload_max)
            return vt_error_set(err, VT_ERR_TOO_LARGE,
                                "payload of event %zu has %zu bytes, over the %zu-byte cap", i,
                                mlen - LEDGER_SALT_LEN, payload_max);
        uint8_t h[VT_SHA256_LEN];
        vt_sha256(m, mlen, h);
        if (sodium_memcmp(h, e->ev.commitment, sizeof(h)) != 0)
            return vt_error_set(err, VT_ERR_VERIFY,
                                "payload of event %zu does not match its commitment", i);
        e->salt = m;
        e->pt = m + LEDGER_SALT_LEN;
        e->pt_len = mlen - LEDGER_SALT_LEN;
        /* An empty payload travels as null; as bytes it would be a second encoding. */
        if (e->pt_len == 0 && sodium_memcmp(m, zero_salt, LEDGER_SALT_LEN) == 0)
            return vt_error_set(err, VT_ERR_NONCANONICAL, "empty payload of event %zu not null", i);
    }
    return VT_OK;
}

static enum vt_status check_events(struct bundle *b, struct vt_error *err)
{
    for (size_t i = 0; i < b->n; i++) {
        struct bundle_event *e = &b->events[i];
        enum vt_status st = ledger_leaf_open(e->leaf, e->leaf_len, &e->ev, NULL, NULL, NULL, err);
        if (st != VT_OK)
            return vt_error_prefix(err, st, "bundle event %zu", i);
        if (memcmp(e->ev.learner, b->learner, LEDGER_LEARNER_LEN) != 0)
            return vt_error_set(err, VT_ERR_VERIFY, "bundle event %zu belongs to another learner",
                                i);
        if (e->ev.seq != i)
            return vt_error_set(err, VT_ERR_VERIFY,
                                "bundle event %zu has seq %llu: events must run 0, 1, ... in order",
                                i, (unsigned long long)e->ev.seq);
        if (i > 0 && memcmp(e->ev.prev, b->events[i - 1].leaf_hash, LEDGER_HASH_LEN) != 0)
            return vt_error_set(err, VT_ERR_VERIFY,
                                "bundle event %zu: prev does not match event %zu (fork or "
                                "tampering)",
                                i, i - 1);
        if (strcmp(e->ev.type, "erasure") == 0)
            return vt_error_set(err, VT_ERR_UNSUPPORTED,
                                "bundle event %zu is an erasure; erased chains are not imported",
                                i);
        ledger_leaf_hash(e->leaf, e->leaf_len, e->leaf_hash);
    }
    return VT_OK;
}

static enum vt_status check_head(struct bundle *b, struct vt_error *err)
{
    const struct bundle_event *head = &b->events[b->n - 1];
    if (b->head_index >= b->cp.size)
        return vt_error_set(err, VT_ERR_VERIFY,
                            "bundle head index %llu is outside its checkpoint of %llu events",
                            (unsigned long long)b->head_index, (unsigned long long)b->cp.size);
    enum vt_status st = ledger_verify_inclusion(head->leaf_hash, b->head_index, b->cp.size,
                                                (const uint8_t(*)[LEDGER_HASH_LEN])b->proof,
                                                b->proof_len, b->cp.root, err);
    if (st != VT_OK)
        return vt_error_prefix(err, st, "bundle head event %zu is not proven under its checkpoint",
                               b->n - 1);
    return VT_OK;
}

/* How many of the bundle's events this ledger holds already; a different event at one of
 * those seqs is a fork. */
static enum vt_status compare_local(struct ledger *l, struct bundle *b, size_t *present,
                                    struct vt_error *err)
{
    MDB_txn *txn;
    enum vt_status st = ledger_read_begin(l, &txn, err);
    if (st != VT_OK)
        return st;
    *present = 0;
    MDB_val key = {LEDGER_LEARNER_LEN, (void *)b->learner}, val;
    int rc = mdb_get(txn, l->db_heads, &key, &val);
    if (rc == MDB_NOTFOUND)
        goto out;
    if (rc != 0 || val.mv_size != LEDGER_HEAD_LEN) {
        st = rc ? ledger_mdb_error(rc, err, "read a learner head")
                : vt_error_set(err, VT_ERR_INVALID, "learner head is malformed");
        goto out;
    }
    uint64_t head_seq = vt_be64_get(val.mv_data);
    size_t upto = head_seq + 1 < b->n ? (size_t)head_seq + 1 : b->n;
    for (size_t i = 0; i < upto; i++) {
        uint8_t k[LEDGER_LEARNER_LEN + 8];
        memcpy(k, b->learner, LEDGER_LEARNER_LEN);
        vt_be64_put(k + LEDGER_LEARNER_LEN, i);
        MDB_val lk = {sizeof(k), k}, iv, leaf;
        rc = mdb_get(txn, l->db_lseq, &lk, &iv);
        if (rc != 0 || iv.mv_size != 8) {
            st = vt_error_set(err, VT_ERR_INTERNAL, "learner index misses seq %zu", i);
            goto out;
        }
        if ((st = ledger_get_leaf(l, txn, vt_be64_get(iv.mv_data), &leaf, err)) != VT_OK)
            goto out;
        uint8_t h[LEDGER_HASH_LEN];
        ledger_leaf_hash(leaf.mv_data, leaf.mv_size, h);
        if (memcmp(h, b->events[i].leaf_hash, LEDGER_HASH_LEN) != 0) {
            st = vt_error_set(err, VT_ERR_CONFLICT,
                              "fork: this ledger holds another event at seq %zu of the learner", i);
            goto out;
        }
    }
    *present = upto;
out:
    ledger_read_end(l, txn);
    return st;
}

static enum vt_status append_new(struct ledger *l, struct bundle *b, size_t from,
                                 struct ledger_bundle_result *res, struct vt_error *err)
{
    size_t n = b->n - from;
    struct ledger_append_req *reqs = vt_calloc(n, sizeof(*reqs));
    struct ledger_append_result *out = vt_calloc(n, sizeof(*out));
    for (size_t i = 0; i < n; i++) {
        const struct bundle_event *e = &b->events[from + i];
        reqs[i].signed_event = e->leaf;
        reqs[i].signed_event_len = e->leaf_len;
        if (e->salt) {
            reqs[i].salt = e->salt;
            reqs[i].payload = e->pt;
            reqs[i].payload_len = e->pt_len;
            res->payloads++;
        }
    }
    struct ledger_prov prov = {b->origin, b->key, b->note, b->note_len, {0}};
    vt_sha256(b->note, b->note_len, prov.note_hash);
    struct ledger_job job;
    memset(&job, 0, sizeof(job));
    job.kind = LEDGER_JOB_APPEND;
    job.reqs = reqs;
    job.n = n;
    job.res = out;
    job.presigned = true;
    job.preverified = true;
    job.prov = &prov;
    enum vt_status st = ledger_submit(l, &job);
    if (st != VT_OK && err)
        *err = job.error;
    for (size_t i = 0; st == VT_OK && i < n; i++) {
        if (out[i].status != VT_OK) {
            st = out[i].status;
            if (err)
                *err = out[i].error;
            vt_error_prefix(err, st, "bundle event %zu", from + i);
            break;
        }
        if (out[i].duplicate)
            res->present++;
        else
            res->imported++;
    }
    free(reqs);
    free(out);
    return st;
}

enum vt_status ledger_bundle_import(struct ledger *l, const uint8_t *bundle, size_t n,
                                    const uint8_t *recipient_x25519_sk,
                                    struct ledger_bundle_result *res, struct vt_error *err)
{
    struct ledger_bundle_result local;
    if (!res)
        res = &local;
    memset(res, 0, sizeof(*res));
    if (n > l->bundle_max)
        return vt_error_set(err, VT_ERR_TOO_LARGE, "bundle of %zu bytes over the %zu-byte cap", n,
                            l->bundle_max);
    enum vt_status st = vt_cbor_check(bundle, n, 4, err);
    if (st != VT_OK)
        return vt_error_prefix(err, st, "bad bundle");
    struct bundle b;
    memset(&b, 0, sizeof(b));
    struct vt_buf arena;
    vt_buf_init(&arena, n ? n : 1);
    uint8_t k[crypto_aead_xchacha20poly1305_ietf_KEYBYTES];
    bool sealed = false;
    if ((st = parse_bundle(bundle, n, &b, err)) != VT_OK)
        goto out;
    if ((b.epk != NULL) != (b.rpk != NULL)) {
        st = vt_error_set(err, VT_ERR_INVALID, "bundle names only one of the sealing keys");
        goto out;
    }
    if ((st = check_checkpoint(&b, err)) != VT_OK || (st = check_events(&b, err)) != VT_OK)
        goto out;
    if (b.epk) {
        uint8_t rpk[VT_X25519_LEN];
        if (!recipient_x25519_sk) {
            st = vt_error_set(err, VT_ERR_INVALID,
                              "bundle payloads are sealed; a recipient key is needed");
            goto out;
        }
        crypto_scalarmult_base(rpk, recipient_x25519_sk);
        if (sodium_memcmp(rpk, b.rpk, VT_X25519_LEN) != 0) {
            st = vt_error_set(err, VT_ERR_VERIFY, "bundle is sealed to another recipient key");
            goto out;
        }
        if (!seal_key(recipient_x25519_sk, b.epk, b.epk, b.rpk, k)) {
            st = vt_error_set(err, VT_ERR_VERIFY, "bundle's ephemeral key is of low order");
            goto out;
        }
        sealed = true;
    }
    if ((st = check_payloads(&b, sealed ? k : NULL, l->payload_max, &arena, err)) != VT_OK ||
        (st = check_head(&b, err)) != VT_OK)
        goto out;
    size_t present;
    if ((st = compare_local(l, &b, &present, err)) != VT_OK)
        goto out;
    memcpy(res->learner, b.learner, LEDGER_LEARNER_LEN);
    memcpy(res->origin, b.origin, sizeof(res->origin));
    memcpy(res->service_key, b.key, VT_ED25519_PK_LEN);
    res->checkpoint_size = b.cp.size;
    res->events = b.n;
    res->head_seq = b.n - 1;
    memcpy(res->head_leaf, b.events[b.n - 1].leaf_hash, LEDGER_HASH_LEN);
    res->present = present;
    if (present < b.n)
        st = append_new(l, &b, present, res, err);
out:
    sodium_memzero(k, sizeof(k));
    vt_buf_release_secret(&arena);
    free(b.events);
    return st;
}

/* The wallet's credential store: one file per credential under credentials/, holding every
 * secured form received for it (specs/wallet.md §6). */
#ifndef VITAE_WALLET_STORE_H
#define VITAE_WALLET_STORE_H

#include "wallet-cli/wallet.h"

/* Characters of the local id: the first 16 hex digits of SHA-256 of the credential id. */
#define STORE_ID_LEN 16

/*
 * Parses what `credentials import` takes: a credential (JSON), a credential.issue result
 * ({"verifiableCredential", "jwt"?, "cose_b64u"?}), a compact JWT, or COSE_Sign1 (bytes or
 * base64url). On success *entry_out is a new store entry {"id","local","added","json"?,
 * "jwt"?,"cose_b64u"?}. VT_ERR_INVALID / VT_ERR_UNSUPPORTED for anything else.
 */
enum vt_status store_parse(const uint8_t *p, size_t n, json_t **entry_out, struct vt_error *err);

/* Adds (or merges forms into) the entry; *merged says whether one existed. */
enum vt_status store_put(const struct cli *cli, json_t *entry, bool *merged, struct vt_error *err);

/* All entries, oldest first (a new array). */
enum vt_status store_all(const struct cli *cli, json_t **out, struct vt_error *err);

/*
 * Finds one entry by local id prefix (at least 4 characters) or by exact credential id.
 * VT_ERR_NOT_FOUND when nothing matches, VT_ERR_CONFLICT when a prefix is ambiguous.
 * *entry_out is a new reference.
 */
enum vt_status store_find(const struct cli *cli, const char *id, json_t **entry_out,
                          struct vt_error *err);

/* Removes the entry with this local id. */
enum vt_status store_remove(const struct cli *cli, const char *local, struct vt_error *err);

/* The credential document of an entry: its JSON form, else the payload of its JWT or COSE
 * form (new reference, NULL when none decodes). */
json_t *store_document(const json_t *entry);

#endif

/* Key files in and out of the wallet: Multikey JSON and JWK (specs/wallet.md §4). */
#ifndef VITAE_WALLET_KEYIO_H
#define VITAE_WALLET_KEYIO_H

#include "wallet-cli/wallet.h"

/*
 * Reads an Ed25519 key pair from a Multikey JSON file or an OKP/Ed25519 JWK with "d".
 * The wallet key is a did:key, so other key types are VT_ERR_UNSUPPORTED (with a hint that
 * sign/verify take them directly); a public-only file is VT_ERR_INVALID.
 */
enum vt_status keyio_import(const char *path, struct vt_key *key, struct vt_error *err);

/* The key as a Multikey document (or a JWK when jwk), with the secret when with_secret.
 * A new reference. */
json_t *keyio_export(const struct vt_key *key, bool jwk, bool with_secret);

/* Moves the current keystore into the key history (keys/). */
enum vt_status wallet_retire_current(const struct cli *cli, struct vt_error *err);

#endif

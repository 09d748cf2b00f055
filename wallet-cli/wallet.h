/*
 * The wallet on disk: its directory, the passphrase-encrypted keystore, the key history,
 * the configuration and the credential store. Byte layouts: specs/wallet.md.
 *
 * Secrets (passphrases, seeds, X25519 secret keys) live only in caller-provided memory and
 * are wiped with sodium_memzero by whoever holds them; nothing here logs or prints them.
 */
#ifndef VITAE_WALLET_H
#define VITAE_WALLET_H

#include "wallet-cli/cli.h"

/* ---------------------------------------------------------------------------------------
 * Sealed files: Argon2id (crypto_pwhash) + XChaCha20-Poly1305 (specs/wallet.md §2)
 */

#define KS_MAGIC_LEN 8
#define KS_HEADER_LEN 64
#define KS_KEYSTORE_LEN 184
#define KS_SALT_LEN 16
#define KS_NONCE_LEN 24

struct ks_params {
    uint32_t opslimit;
    uint64_t memlimit;
};

/* The Argon2id limits for a name: "interactive" (the default), "moderate", "sensitive".
 * VT_ERR_INVALID for another name. */
enum vt_status ks_params_named(const char *name, struct ks_params *p, struct vt_error *err);

/* What a keystore file says without the passphrase. */
struct ks_info {
    uint8_t pk[VT_ED25519_PK_LEN];
    int64_t created_ms;
    struct ks_params params;
};

/* The keystore bytes (KS_KEYSTORE_LEN) for key, encrypted under pass. */
enum vt_status ks_keystore_seal(const struct vt_key *key, int64_t created_ms, const char *pass,
                                size_t pass_len, const struct ks_params *p,
                                uint8_t out[KS_KEYSTORE_LEN], struct vt_error *err);
/* Parses the clear part of a keystore. VT_ERR_INVALID / VT_ERR_UNSUPPORTED. */
enum vt_status ks_keystore_info(const uint8_t *p, size_t n, struct ks_info *info,
                                struct vt_error *err);
/*
 * Decrypts a keystore: the key pair and its X25519 secret key. VT_ERR_PERMISSION for a
 * wrong passphrase (or a file altered after sealing: the two are indistinguishable),
 * VT_ERR_INVALID for a malformed file.
 */
enum vt_status ks_keystore_open(const uint8_t *p, size_t n, const char *pass, size_t pass_len,
                                struct vt_key *key, uint8_t x25519_sk[VT_X25519_LEN],
                                struct vt_error *err);

/* Seals any plaintext (a backup) under pass: appends header ‖ length ‖ ciphertext to out. */
enum vt_status ks_blob_seal(const char magic[KS_MAGIC_LEN], const uint8_t *plain, size_t n,
                            const char *pass, size_t pass_len, const struct ks_params *p,
                            struct vt_buf *out, struct vt_error *err);
/* Opens a sealed blob; the plaintext is appended to out (wipe it after use). Statuses as
 * ks_keystore_open. */
enum vt_status ks_blob_open(const char magic[KS_MAGIC_LEN], const uint8_t *in, size_t n,
                            const char *pass, size_t pass_len, struct vt_buf *out,
                            struct vt_error *err);

/* ---------------------------------------------------------------------------------------
 * Passphrases
 */

/*
 * Gets the wallet passphrase: --passphrase-file, else VITAE_PASSPHRASE, else a prompt on
 * the controlling terminal without echo (twice when confirm). buf holds CLI_PASSPHRASE_MAX
 * bytes; *len receives the length. VT_ERR_PERMISSION when no source is available (the
 * message says which to use), VT_ERR_INVALID for an empty passphrase or a mismatch,
 * VT_ERR_NOT_FOUND / VT_ERR_IO for the file.
 */
enum vt_status cli_passphrase(struct cli *cli, const char *prompt, bool confirm, char *buf,
                              size_t *len, struct vt_error *err);

/* Asks a yes/no style question on the terminal; writes the answer line to buf. false when
 * there is no terminal. */
bool cli_ask(const char *question, char *buf, size_t n);

/* ---------------------------------------------------------------------------------------
 * The wallet directory
 */

/* Resolves the wallet directory: --wallet, VITAE_WALLET, $XDG_DATA_HOME/vitae,
 * $HOME/.local/share/vitae. VT_ERR_INVALID when none can be formed. */
enum vt_status wallet_resolve(struct cli *cli, struct vt_error *err);

/* A path inside the wallet ("key", "config.json", "credentials/<x>"); VT_ERR_TOO_LARGE. */
enum vt_status wallet_path(const struct cli *cli, const char *name, char out[PATH_MAX],
                           struct vt_error *err);

/* Creates the wallet directory and its subdirectories (mode 0700). */
enum vt_status wallet_mkdirs(const struct cli *cli, struct vt_error *err);

/* Reads the current keystore's clear part; VT_ERR_NOT_FOUND when there is no wallet. */
enum vt_status wallet_info(const struct cli *cli, struct ks_info *info, struct vt_error *err);

/* An unlocked wallet key. Release with wallet_lock. */
struct wallet_key {
    struct vt_key key;
    uint8_t x25519_sk[VT_X25519_LEN];
    int64_t created_ms;
    char did[VT_DIDKEY_MAX];
    char vm[VT_DIDKEY_MAX];
};

/*
 * Unlocks the current key: reads the keystore (VT_ERR_NOT_FOUND: no wallet), gets the
 * passphrase and decrypts (VT_ERR_PERMISSION: wrong passphrase). Commands that need the
 * secret key call this before anything else, so that a wrong passphrase fails first.
 */
enum vt_status wallet_unlock(struct cli *cli, struct wallet_key *wk, struct vt_error *err);
/* As wallet_unlock with a passphrase already read (pass is not wiped here). */
enum vt_status wallet_unlock_with(const struct cli *cli, const char *pass, size_t pass_len,
                                  struct wallet_key *wk, struct vt_error *err);
/* Wipes the key. */
void wallet_lock(struct wallet_key *wk);

/* Runs wallet_unlock and turns a failure into cli_fail; returns -1 on success. */
int wallet_unlock_or_fail(struct cli *cli, struct wallet_key *wk);

/* The configuration (config.json): a new reference, an empty object when absent. */
enum vt_status wallet_config_read(const struct cli *cli, json_t **out, struct vt_error *err);
enum vt_status wallet_config_write(const struct cli *cli, const json_t *cfg, struct vt_error *err);

/* Lists the names (not paths) of the files in a wallet subdirectory, sorted; a new array
 * of strings (empty when the directory is absent). */
enum vt_status wallet_list_dir(const struct cli *cli, const char *sub, json_t **out,
                               struct vt_error *err);

/* Removes a directory tree that this process created (temporary directories). */
void cli_rmtree(const char *dir);

#endif

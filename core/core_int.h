/*
 * core internals shared between core's own files; never included outside core/.
 */
#ifndef VITAE_CORE_INT_H
#define VITAE_CORE_INT_H

#include "core/core.h"

/* Fetches and caches OpenSSL's SHA-256 implementation (called once by vt_core_init). */
enum vt_status vt_sha256_init_md(void);

/*
 * The decoders behind vt_base58_decode and vt_base64url_decode, for callers that decode a
 * substring (multibase after its prefix, did:key after "did:key:"): error messages report
 * offsets as at + the offset within s, so they point into the caller's whole string.
 */
enum vt_status vt_base58_decode_at(const char *s, size_t n, size_t at, struct vt_buf *out,
                                   struct vt_error *err);
enum vt_status vt_base64url_decode_at(const char *s, size_t n, size_t at, struct vt_buf *out,
                                      struct vt_error *err);

/*
 * Reads the unsigned LEB128 multicodec varint at the start of p (at most 9 bytes, minimal
 * form, as the multiformats unsigned-varint spec requires). Returns the number of bytes
 * read, or 0 when p does not start with a valid varint.
 */
size_t vt_multicodec_read(const uint8_t *p, size_t n, uint64_t *code);

/* A short name for the multicodec codes we know ("ed25519-pub", ...), else "unknown". */
const char *vt_multicodec_name(uint64_t code);

/*
 * The index of the first byte of p[i..n) that JSON strings treat specially: below 0x20,
 * '"' or '\\', and when high is set also any byte above 0x7f; n when there is none. Eight
 * bytes are tested at a time, as strings are most of the bytes of a document.
 */
size_t vt_json_scan(const uint8_t *p, size_t i, size_t n, bool high);

/* 'z' + base58btc(varint(codec) ‖ p) into out; n is at most 40 so the result always fits.
 * Scratch copies are wiped, as p may be a secret seed. */
void vt_multikey_encode(enum vt_multicodec codec, const uint8_t *p, size_t n,
                        char out[VT_MULTIKEY_MAX]);

#endif

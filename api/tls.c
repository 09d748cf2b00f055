/*
 * A self-signed development certificate for vitaed --init (P-256, one year, subjectAltName
 * for the listen host, localhost and 127.0.0.1). Production deployments bring their own.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "api/api_int.h"

static bool is_ip(const char *h)
{
    return strspn(h, "0123456789.") == strlen(h) || strchr(h, ':');
}

enum vt_status api_tls_selfsigned(const char *host, const char *cert_path, const char *key_path,
                                  struct vt_error *err)
{
    if (access(cert_path, F_OK) == 0)
        return vt_error_set(err, VT_ERR_EXISTS, "'%s' exists", cert_path);
    enum vt_status rc = VT_ERR_CRYPTO;
    EVP_PKEY *pkey = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    X509 *x = X509_new();
    FILE *f = NULL;
    if (!pkey || !x)
        goto out;
    uint8_t serial[16];
    vt_random_bytes(serial, sizeof(serial));
    serial[0] &= 0x7f;
    BIGNUM *bn = BN_bin2bn(serial, sizeof(serial), NULL);
    BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x));
    BN_free(bn);
    X509_set_version(x, 2);
    X509_gmtime_adj(X509_getm_notBefore(x), 0);
    X509_gmtime_adj(X509_getm_notAfter(x), 365L * 24 * 3600);
    X509_set_pubkey(x, pkey);
    X509_NAME *name = X509_get_subject_name(x);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)host, -1, -1, 0);
    X509_set_issuer_name(x, name);
    char san[API_HOST_MAX + 64];
    snprintf(san, sizeof(san), "%s:%s,DNS:localhost,IP:127.0.0.1", is_ip(host) ? "IP" : "DNS",
             host);
    X509V3_CTX v3;
    X509V3_set_ctx_nodb(&v3);
    X509V3_set_ctx(&v3, x, x, NULL, NULL, 0);
    X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, &v3, NID_subject_alt_name, san);
    if (!ext)
        goto out;
    X509_add_ext(x, ext, -1);
    X509_EXTENSION_free(ext);
    if (!X509_sign(x, pkey, EVP_sha256()))
        goto out;

    int fd = open(key_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0 || !(f = fdopen(fd, "w"))) {
        if (fd >= 0)
            close(fd);
        rc = vt_error_set(err, VT_ERR_IO, "cannot write '%s': %s", key_path, strerror(errno));
        goto out;
    }
    if (!PEM_write_PrivateKey(f, pkey, NULL, NULL, 0, NULL, NULL) || fclose(f) != 0) {
        f = NULL;
        rc = vt_error_set(err, VT_ERR_IO, "cannot write '%s'", key_path);
        goto out;
    }
    f = fopen(cert_path, "w");
    if (!f || !PEM_write_X509(f, x) || fclose(f) != 0) {
        f = NULL;
        rc = vt_error_set(err, VT_ERR_IO, "cannot write '%s'", cert_path);
        goto out;
    }
    f = NULL;
    rc = VT_OK;
out:
    if (rc == VT_ERR_CRYPTO)
        vt_error_set(err, rc, "cannot make a development certificate");
    if (f)
        fclose(f);
    X509_free(x);
    EVP_PKEY_free(pkey);
    return rc;
}

#ifndef WEIGHPOINT_COPENSSL_SHIM_H
#define WEIGHPOINT_COPENSSL_SHIM_H
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/core_names.h>
#include <openssl/rand.h>
#include <string.h>

// Small wrappers for what Swift cannot call or should not juggle itself. Each returns 1 on
// success, 0 on failure (the OpenSSL error queue says why); none logs or copies key material.

// EVP_PKEY_Q_keygen is variadic; this builds the key through an EVP_PKEY_CTX instead.
// alg: "SM2", "P-256" or "ED25519".
static inline EVP_PKEY *wp_keygen(const char *alg) {
    int ec = strcmp(alg, "P-256") == 0;
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, ec ? "EC" : alg, NULL);
    EVP_PKEY *pkey = NULL;
    if (ctx == NULL) return NULL;
    if (EVP_PKEY_keygen_init(ctx) <= 0 || (ec && EVP_PKEY_CTX_set_group_name(ctx, "P-256") <= 0)
        || EVP_PKEY_generate(ctx, &pkey) <= 0) {
        pkey = NULL;
    }
    EVP_PKEY_CTX_free(ctx);
    return pkey;
}

// BIO_get_mem_data is a macro.
static inline long wp_bio_mem_data(BIO *bio, char **data) { return BIO_get_mem_data(bio, data); }

// Prepares mctx for signing or verifying. For SM2 the distinguishing ID is set on a key context
// attached before the init (the SM2(7) recipe): OpenSSL 3.0 would silently use an empty ID if it
// were not passed explicitly (PLATFORM-NOTES.md). EVP_MD_CTX_set_pkey_ctx does not take
// ownership, so *pctx_out is freed by the caller after the operation.
static inline int wp_init(EVP_MD_CTX *mctx, EVP_PKEY *pkey, const char *mdname, const unsigned char *distid,
                          size_t distid_len, int verify, EVP_PKEY_CTX **pctx_out) {
    *pctx_out = NULL;
    const EVP_MD *md = mdname == NULL ? NULL : EVP_get_digestbyname(mdname);
    if (distid != NULL) {
        EVP_PKEY_CTX *pctx = EVP_PKEY_CTX_new(pkey, NULL);
        if (pctx == NULL) return 0;
        *pctx_out = pctx;
        if (EVP_PKEY_CTX_set1_id(pctx, distid, (int)distid_len) <= 0) return 0;
        EVP_MD_CTX_set_pkey_ctx(mctx, pctx);
    }
    return verify ? EVP_DigestVerifyInit(mctx, NULL, md, NULL, pkey) == 1
                  : EVP_DigestSignInit(mctx, NULL, md, NULL, pkey) == 1;
}

// Signs msg. mdname: "SM3", "SHA256", or NULL for Ed25519 (one-shot, no separate digest).
static inline int wp_sign(EVP_PKEY *pkey, const char *mdname, const unsigned char *distid, size_t distid_len,
                          const unsigned char *msg, size_t msg_len, unsigned char *sig, size_t *sig_len) {
    EVP_MD_CTX *mctx = EVP_MD_CTX_new();
    EVP_PKEY_CTX *pctx = NULL;
    int ok = 0;
    if (mctx == NULL) return 0;
    if (wp_init(mctx, pkey, mdname, distid, distid_len, 0, &pctx) && EVP_DigestSign(mctx, sig, sig_len, msg, msg_len) == 1)
        ok = 1;
    EVP_MD_CTX_free(mctx);
    EVP_PKEY_CTX_free(pctx);
    return ok;
}

// Verifies sig over msg; 1 valid, 0 invalid or error.
static inline int wp_verify(EVP_PKEY *pkey, const char *mdname, const unsigned char *distid, size_t distid_len,
                            const unsigned char *msg, size_t msg_len, const unsigned char *sig, size_t sig_len) {
    EVP_MD_CTX *mctx = EVP_MD_CTX_new();
    EVP_PKEY_CTX *pctx = NULL;
    int ok = 0;
    if (mctx == NULL) return 0;
    if (wp_init(mctx, pkey, mdname, distid, distid_len, 1, &pctx) && EVP_DigestVerify(mctx, sig, sig_len, msg, msg_len) == 1)
        ok = 1;
    EVP_MD_CTX_free(mctx);
    EVP_PKEY_CTX_free(pctx);
    ERR_clear_error();
    return ok;
}
// The subject of a DER certificate in RFC 2253 form with UTF-8 kept as is (what
// `openssl x509 -noout -subject -nameopt RFC2253,-esc_msb` prints after "subject="), written
// to out (NUL-terminated, at most cap bytes). Returns the length, or -1.
static inline int wp_x509_subject(const unsigned char *der, long der_len, char *out, size_t cap) {
    const unsigned char *p = der;
    X509 *x = d2i_X509(NULL, &p, der_len);
    if (x == NULL || p != der + der_len) { X509_free(x); return -1; }
    BIO *bio = BIO_new(BIO_s_mem());
    int n = -1;
    if (bio != NULL && X509_NAME_print_ex(bio, X509_get_subject_name(x), 0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB) >= 0) {
        char *data = NULL;
        long len = BIO_get_mem_data(bio, &data);
        if (len >= 0 && (size_t)len < cap) {
            memcpy(out, data, (size_t)len);
            out[len] = 0;
            n = (int)len;
        }
    }
    BIO_free(bio);
    X509_free(x);
    return n;
}
#endif

// ktls_peer - the guest's kernel-TLS peer for autonic's interop cases.
// OpenSSL (the host's 3.0, run inside the guest) does the TLS 1.3 or 1.2 handshake (AES-GCM or
// ChaCha20-Poly1305); from then on the KERNEL does both record directions: OpenSSL's KTLS
// option installs TLS_TX itself, and TLS_RX too for TLS 1.2; since OpenSSL 3.0 does not install
// TLS_RX for TLS 1.3, we derive the client's traffic key from the keylog callback (RFC 8446
// sec. 7.1/7.3: key = HKDF-Expand-Label(secret, "key"), iv likewise) and install TLS_RX
// (Documentation/networking/tls.rst). Every connection is an echo: what the kernel decrypts is
// written back through the kernel's encryption, until the peer closes.
// Usage: ktls_peer CERT KEY PORT      (serves connections one after another, forever)
#include <linux/tls.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/ssl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>
#ifndef SOL_TLS
#define SOL_TLS 282
#endif

static unsigned char g_client_secret[48];
static size_t g_client_secret_len;

static void keylog(const SSL* ssl, const char* line) {
  (void)ssl;
  static const char kTag[] = "CLIENT_TRAFFIC_SECRET_0 ";
  if (strncmp(line, kTag, sizeof kTag - 1) != 0) return;
  const char* hex = strchr(line + sizeof kTag - 1, ' ');  // skip the client random
  g_client_secret_len = 0;
  for (hex++; hex[0] && hex[1] && g_client_secret_len < sizeof g_client_secret; hex += 2)
    sscanf(hex, "%2hhx", &g_client_secret[g_client_secret_len++]);
}

// HKDF-Expand-Label(secret, label, "", len), RFC 8446 sec. 7.1.
static int expand_label(const char* md, const char* label, unsigned char* out, size_t len) {
  unsigned char info[64];
  size_t n = 0, ll = 6 + strlen(label);
  info[n++] = 0;
  info[n++] = (unsigned char)len;
  info[n++] = (unsigned char)ll;
  memcpy(info + n, "tls13 ", 6);
  memcpy(info + n + 6, label, ll - 6);
  n += ll;
  info[n++] = 0;
  int mode = EVP_KDF_HKDF_MODE_EXPAND_ONLY;
  EVP_KDF* kdf = EVP_KDF_fetch(NULL, "HKDF", NULL);
  EVP_KDF_CTX* ctx = EVP_KDF_CTX_new(kdf);
  OSSL_PARAM p[] = {OSSL_PARAM_construct_utf8_string("digest", (char*)md, 0),
                    OSSL_PARAM_construct_int("mode", &mode),
                    OSSL_PARAM_construct_octet_string("key", g_client_secret, g_client_secret_len),
                    OSSL_PARAM_construct_octet_string("info", info, n), OSSL_PARAM_construct_end()};
  int ok = EVP_KDF_derive(ctx, out, len, p);
  EVP_KDF_CTX_free(ctx);
  EVP_KDF_free(kdf);
  return ok == 1 ? 0 : -1;
}

// Install TLS_RX at record sequence 0: the client's first application-data record. TLS 1.2:
// OpenSSL did (0 if it did).
static int install_rx(int fd, const SSL* ssl) {
  if (SSL_version(ssl) == TLS1_2_VERSION) return BIO_get_ktls_recv(SSL_get_rbio(ssl)) ? 0 : -1;
  unsigned char key[32], iv[12];
  const unsigned long id = SSL_CIPHER_get_id(SSL_get_current_cipher(ssl));
  int aes256 = id == 0x03001302, chacha = id == 0x03001303;  // AES_256_GCM_SHA384, CHACHA20_POLY1305
  const char* md = aes256 ? "SHA384" : "SHA256";
  size_t klen = aes256 || chacha ? 32 : 16;
  if (expand_label(md, "key", key, klen) || expand_label(md, "iv", iv, 12)) return -1;
  if (chacha) {
    struct tls12_crypto_info_chacha20_poly1305 ci = {0};
    ci.info.version = TLS_1_3_VERSION;
    ci.info.cipher_type = TLS_CIPHER_CHACHA20_POLY1305;
    memcpy(ci.key, key, 32), memcpy(ci.iv, iv, 12);
    return setsockopt(fd, SOL_TLS, TLS_RX, &ci, sizeof ci);
  }
  if (aes256) {
    struct tls12_crypto_info_aes_gcm_256 ci = {0};
    ci.info.version = TLS_1_3_VERSION;
    ci.info.cipher_type = TLS_CIPHER_AES_GCM_256;
    memcpy(ci.key, key, 32), memcpy(ci.salt, iv, 4), memcpy(ci.iv, iv + 4, 8);
    return setsockopt(fd, SOL_TLS, TLS_RX, &ci, sizeof ci);
  }
  struct tls12_crypto_info_aes_gcm_128 ci = {0};
  ci.info.version = TLS_1_3_VERSION;
  ci.info.cipher_type = TLS_CIPHER_AES_GCM_128;
  memcpy(ci.key, key, 16), memcpy(ci.salt, iv, 4), memcpy(ci.iv, iv + 4, 8);
  return setsockopt(fd, SOL_TLS, TLS_RX, &ci, sizeof ci);
}

// One kernel record read; returns bytes of application data, 0 on a non-data record
// (close_notify or any alert: the kernel reports the type in a TLS_GET_RECORD_TYPE cmsg).
static ssize_t krecv(int fd, char* buf, size_t len) {
  char cbuf[CMSG_SPACE(sizeof(unsigned char))];
  struct iovec iov = {buf, len};
  struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof cbuf};
  ssize_t n = recvmsg(fd, &m, 0);
  struct cmsghdr* c = CMSG_FIRSTHDR(&m);
  if (n > 0 && c && c->cmsg_level == SOL_TLS && c->cmsg_type == TLS_GET_RECORD_TYPE &&
      *CMSG_DATA(c) != 23)
    return 0;
  return n;
}

static void send_close_notify(int fd) {
  char cbuf[CMSG_SPACE(sizeof(unsigned char))];
  unsigned char alert[2] = {1, 0};  // warning, close_notify (RFC 8446 sec. 6.1)
  struct iovec iov = {alert, 2};
  struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof cbuf};
  struct cmsghdr* c = CMSG_FIRSTHDR(&m);
  c->cmsg_level = SOL_TLS, c->cmsg_type = TLS_SET_RECORD_TYPE, c->cmsg_len = CMSG_LEN(1);
  *CMSG_DATA(c) = 21;
  if (sendmsg(fd, &m, 0) < 0) perror("close_notify");
}

static void serve(SSL_CTX* ctx, int fd) {
  SSL* ssl = SSL_new(ctx);
  SSL_set_fd(ssl, fd);
  if (SSL_accept(ssl) != 1) {
    printf("KTLS handshake failed\n");
    SSL_free(ssl);
    return;
  }
  int tx = BIO_get_ktls_send(SSL_get_wbio(ssl));
  int rx = install_rx(fd, ssl);
  printf("KTLS cipher=%s ktls_tx=%d tls_rx=%d\n", SSL_get_cipher_name(ssl), tx, rx);
  fflush(stdout);
  unsigned long long total = 0;
  EVP_MD_CTX* md5 = EVP_MD_CTX_new();
  EVP_DigestInit_ex(md5, EVP_md5(), NULL);
  static char buf[1 << 16];
  ssize_t n;
  while (tx == 1 && rx == 0 && (n = krecv(fd, buf, sizeof buf)) > 0) {
    EVP_DigestUpdate(md5, buf, n);
    for (ssize_t off = 0, w; off < n; off += w)
      if ((w = write(fd, buf + off, n - off)) <= 0) goto out;  // kernel-encrypted echo
    total += n;
  }
  send_close_notify(fd);
out:;
  unsigned char d[16];
  EVP_DigestFinal_ex(md5, d, NULL);
  EVP_MD_CTX_free(md5);
  printf("KTLS echoed=%llu md5=", total);
  for (int i = 0; i < 16; i++) printf("%02x", d[i]);
  printf("\n");
  fflush(stdout);
  SSL_free(ssl);  // no SSL_shutdown: the kernel owns the records now
}

int main(int argc, char** argv) {
  if (argc != 4) return fprintf(stderr, "usage: ktls_peer CERT KEY PORT\n"), 2;
  SSL_CTX* ctx = SSL_CTX_new(TLS_server_method());
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);  // (TLS 1.2: a ticket before the Finished)
  SSL_CTX_set_options(ctx, SSL_OP_ENABLE_KTLS);
  SSL_CTX_set_keylog_callback(ctx, keylog);
  if (SSL_CTX_use_certificate_chain_file(ctx, argv[1]) != 1 ||
      SSL_CTX_use_PrivateKey_file(ctx, argv[2], SSL_FILETYPE_PEM) != 1)
    return fprintf(stderr, "ktls_peer: cannot load %s / %s\n", argv[1], argv[2]), 2;
  int ls = socket(AF_INET, SOCK_STREAM, 0), one = 1;
  setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(argv[3]))};
  if (bind(ls, (struct sockaddr*)&a, sizeof a) || listen(ls, 4)) return perror("listen"), 2;
  printf("KTLS listening on %s\n", argv[3]);
  fflush(stdout);
  for (;;) {
    int fd = accept(ls, NULL, NULL);
    if (fd < 0) continue;
    // one connection at a time: a peer that goes silent must not block the next case
    struct timeval idle = {.tv_sec = 20};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &idle, sizeof idle);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &idle, sizeof idle);
    serve(ctx, fd);
    close(fd);
  }
}

/* test_keylog.c - NSS key log parsing: labels, line endings, comments, case, bad lines, pieces. */
#include "decode/decode.h"
#include "decode/tls_int.h"
#include "tests/t.h"

#include <unistd.h>

#define CR64 "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
#define MS96 "ab85fc5f6db67c9c1e1fa3a3e0f5e5c1ab85fc5f6db67c9c1e1fa3a3e0f5e5c1ab85fc5f6db67c9c1e1fa3a3e0f5e5c1"
#define S64 "2635fafc16c49a3e5e2a4e0f0df0d8b0b4ec8da1d7d53d38c56d6c7d5c8d9d7e"

static const uint8_t cr[32] = {0,  1,  2,  3,  4,  5,  6,  7,  8,  9,  10, 11, 12, 13, 14, 15,
                               16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31};

static void add(ww_keylog *kl, const char *s)
{
    ww_keylog_add_text(kl, (const uint8_t *)s, strlen(s));
}

T_CASE(keylog_labels_and_lookup)
{
    ww_keylog *kl = ww_keylog_new(NULL);
    uint8_t out[WW_KEYLOG_SECRET_MAX], want[48];
    add(kl, "# SSL/TLS secrets log file\n"
            "CLIENT_RANDOM " CR64 " " MS96 "\n"
            "CLIENT_HANDSHAKE_TRAFFIC_SECRET " CR64 " " S64 "\n"
            "SERVER_HANDSHAKE_TRAFFIC_SECRET " CR64 " " S64 "\n"
            "CLIENT_TRAFFIC_SECRET_0 " CR64 " " S64 "\n"
            "SERVER_TRAFFIC_SECRET_0 " CR64 " " S64 "\n"
            "EXPORTER_SECRET " CR64 " " S64 "\n"
            "RSA 3e2ffbd86d10f694 " MS96 "\n");
    T_EQ_INT(ww_keylog_count(kl), 5);
    T_EQ_INT(ww_keylog_bad_lines(kl), 0);
    T_EQ_INT(ww_keylog_lookup(kl, cr, WW_KL_CLIENT_RANDOM, out), 48);
    T_CHECK(ww_hex_decode(want, sizeof want, MS96, 96) == 48);
    T_EQ_MEM(out, want, 48);
    T_EQ_INT(ww_keylog_lookup(kl, cr, WW_KL_SERVER_AP0, out), 32);
    T_CHECK(ww_hex_decode(want, sizeof want, S64, 64) == 32);
    T_EQ_MEM(out, want, 32);
    T_EQ_INT(ww_keylog_lookup(kl, cr, WW_KL_CLIENT_EARLY, out), 0);
    uint8_t other[32] = {9};
    T_EQ_INT(ww_keylog_lookup(kl, other, WW_KL_CLIENT_RANDOM, out), 0);
    /* the same line again changes nothing, not even the generation */
    uint64_t g = ww_keylog_generation(kl);
    add(kl, "CLIENT_RANDOM " CR64 " " MS96 "\n");
    T_EQ_INT(ww_keylog_generation(kl), g);
    T_EQ_INT(ww_keylog_count(kl), 5);
    ww_keylog_free(kl);
}

T_CASE(keylog_line_endings_case_comments)
{
    const char *variants[] = {
        "CLIENT_RANDOM " CR64 " " MS96 "\r\n# comment\r\n\r\nSERVER_TRAFFIC_SECRET_0 " CR64 " " S64 "\r\n",
        "CLIENT_RANDOM " CR64 " " MS96 "\r# comment\rSERVER_TRAFFIC_SECRET_0 " CR64 " " S64 "\r",
        "  CLIENT_RANDOM\t" CR64 "  " MS96 " \n   # indented comment\nSERVER_TRAFFIC_SECRET_0 " CR64 " " S64,
    };
    for (size_t i = 0; i < WW_ARRAY_LEN(variants); i++) {
        ww_keylog *kl = ww_keylog_new(NULL);
        add(kl, variants[i]);
        T_EQ_INT(ww_keylog_count(kl), 2);
        T_EQ_INT(ww_keylog_bad_lines(kl), 0);
        ww_keylog_free(kl);
    }
    /* upper-case hex gives the same secret */
    char upper[300];
    snprintf(upper, sizeof upper, "CLIENT_RANDOM %s %s\n", CR64, MS96);
    for (char *p = upper + 14; *p; p++)
        if (*p >= 'a' && *p <= 'f')
            *p = (char)(*p - 'a' + 'A');
    ww_keylog *kl = ww_keylog_new(NULL);
    add(kl, upper);
    uint8_t out[48], want[48];
    T_EQ_INT(ww_keylog_lookup(kl, cr, WW_KL_CLIENT_RANDOM, out), 48);
    T_CHECK(ww_hex_decode(want, sizeof want, MS96, 96) == 48);
    T_EQ_MEM(out, want, 48);
    ww_keylog_free(kl);
}

T_CASE(keylog_malformed_lines_counted)
{
    ww_keylog *kl = ww_keylog_new(NULL);
    add(kl, "CLIENT_RANDOM " CR64 "\n"                      /* missing secret */
            "CLIENT_RANDOM " CR64 " " S64 "\n"              /* 32-byte master secret */
            "CLIENT_RANDOM zz" CR64 " " MS96 "\n"            /* bad client random */
            "CLIENT_RANDOM " CR64 " " MS96 " extra\n"        /* trailing token */
            "NOT_A_LABEL " CR64 " " S64 "\n"                 /* unknown label */
            "SERVER_TRAFFIC_SECRET_0 " CR64 " " S64 "0\n"    /* odd hex */
            "SERVER_TRAFFIC_SECRET_0 " CR64 " " S64 "\n");   /* good */
    T_EQ_INT(ww_keylog_bad_lines(kl), 6);
    T_EQ_INT(ww_keylog_count(kl), 1);
    /* an over-long line is bad, and the next one is still read */
    char big[2000];
    memset(big, 'A', sizeof big);
    ww_keylog_add_text(kl, (const uint8_t *)big, sizeof big);
    add(kl, "\nCLIENT_RANDOM " CR64 " " MS96 "\n");
    T_EQ_INT(ww_keylog_bad_lines(kl), 7);
    T_EQ_INT(ww_keylog_count(kl), 2);
    ww_keylog_free(kl);
}

T_CASE(keylog_text_in_pieces)
{
    const char *text = "# header\r\nCLIENT_RANDOM " CR64 " " MS96 "\r\nSERVER_TRAFFIC_SECRET_0 " CR64
                       " " S64 "\r\nbad line\r\n";
    size_t n = strlen(text);
    /* every split point, and byte by byte */
    for (size_t cut = 0; cut <= n; cut++) {
        ww_keylog *kl = ww_keylog_new(NULL);
        ww_keylog_add_text(kl, (const uint8_t *)text, cut);
        ww_keylog_add_text(kl, (const uint8_t *)text + cut, n - cut);
        T_CHECK(ww_keylog_count(kl) == 2 && ww_keylog_bad_lines(kl) == 1);
        ww_keylog_free(kl);
    }
    ww_keylog *kl = ww_keylog_new(NULL);
    for (size_t i = 0; i < n; i++)
        ww_keylog_add_text(kl, (const uint8_t *)text + i, 1);
    T_EQ_INT(ww_keylog_count(kl), 2);
    T_EQ_INT(ww_keylog_bad_lines(kl), 1);
    ww_keylog_free(kl);
    /* a DSB without a final newline is usable at once */
    kl = ww_keylog_new(NULL);
    add(kl, "CLIENT_RANDOM " CR64 " " MS96);
    T_EQ_INT(ww_keylog_count(kl), 1);
    add(kl, "\n");
    T_EQ_INT(ww_keylog_count(kl), 1);
    T_EQ_INT(ww_keylog_bad_lines(kl), 0);
    ww_keylog_free(kl);
}

T_CASE(keylog_load_file)
{
    char path[] = "/tmp/ww_keylog_XXXXXX";
    int fd = mkstemp(path);
    T_CHECK(fd >= 0);
    if (fd < 0)
        return;
    FILE *f = fdopen(fd, "w");
    fputs("CLIENT_RANDOM " CR64 " " MS96 "\nSERVER_TRAFFIC_SECRET_0 " CR64 " " S64, f);
    fclose(f);
    ww_keylog *kl = ww_keylog_new(NULL);
    char err[WW_ERRBUF_SIZE];
    T_EQ_INT(ww_keylog_load_file(kl, path, err), WW_OK);
    T_EQ_INT(ww_keylog_count(kl), 2);
    T_EQ_INT(ww_keylog_bad_lines(kl), 0);
    unlink(path);
    T_EQ_INT(ww_keylog_load_file(kl, "/nonexistent/keylog", err), WW_E_IO);
    T_CHECK(strstr(err, "/nonexistent/keylog") != NULL);
    ww_keylog_free(kl);
}

T_CASE(keylog_corpus_files)
{
    static const struct {
        const char *file;
        size_t count;
    } files[] = {
        {"corpus/wireshark/tls13-rfc8446.keys", 9},
        {"corpus/wireshark/tls12-chacha20poly1305.keys", 6},
        {"corpus/wireshark/dhe1_keylog.dat", 1},
    };
    for (size_t i = 0; i < WW_ARRAY_LEN(files); i++) {
        const char *p = t_shared(files[i].file);
        if (access(p, R_OK) != 0)
            T_SKIP("../shared/corpus/wireshark is absent");
        ww_keylog *kl = ww_keylog_new(NULL);
        char err[WW_ERRBUF_SIZE];
        T_EQ_INT(ww_keylog_load_file(kl, p, err), WW_OK);
        T_EQ_INT(ww_keylog_bad_lines(kl), 0);
        T_CHECK(ww_keylog_count(kl) >= files[i].count);
        ww_keylog_free(kl);
    }
}

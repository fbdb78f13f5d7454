/*
 * yara.c - YARA rules over served scripts (libyara 4.x: yr_compiler_*, yr_rules_scan_mem).
 */
#include "detect/yara_int.h"

#include <errno.h>
#include <yara.h>

struct ww_yara {
    YR_RULES *rules;
};

static int yara_users; /* yr_initialize / yr_finalize are reference counted by libyara too */

typedef struct compile_err {
    char *errbuf;
    bool have;
} compile_err;

static void on_compile(int level, const char *file, int line, const YR_RULE *rule,
                       const char *message, void *ud)
{
    compile_err *ce = ud;
    (void)rule;
    if (level != YARA_ERROR_LEVEL_ERROR || ce->have)
        return;
    snprintf(ce->errbuf, WW_ERRBUF_SIZE, "%s:%d: %s", file ? file : "rules", line, message);
    ce->have = true;
}

int ww_yara_load(ww_yara **out, const char *path, char errbuf[WW_ERRBUF_SIZE])
{
    YR_COMPILER *c = NULL;
    compile_err ce = {errbuf, false};
    FILE *f;
    int rc = WW_E_INVALID;

    *out = NULL;
    f = fopen(path, "r");
    if (f == NULL) {
        snprintf(errbuf, WW_ERRBUF_SIZE, "%s: %s", path, strerror(errno));
        return WW_E_IO;
    }
    if (yr_initialize() != ERROR_SUCCESS) {
        fclose(f);
        snprintf(errbuf, WW_ERRBUF_SIZE, "libyara could not be initialised");
        return WW_E_INTERNAL;
    }
    yara_users++;
    ww_yara *y = calloc(1, sizeof(*y));
    if (y == NULL || yr_compiler_create(&c) != ERROR_SUCCESS) {
        rc = WW_E_NOMEM;
        snprintf(errbuf, WW_ERRBUF_SIZE, "out of memory");
        goto fail;
    }
    yr_compiler_set_callback(c, on_compile, &ce);
    if (yr_compiler_add_file(c, f, NULL, path) != 0) {
        if (!ce.have)
            snprintf(errbuf, WW_ERRBUF_SIZE, "%s: does not compile", path);
        goto fail;
    }
    if (yr_compiler_get_rules(c, &y->rules) != ERROR_SUCCESS) {
        snprintf(errbuf, WW_ERRBUF_SIZE, "%s: cannot build the rules", path);
        goto fail;
    }
    yr_compiler_destroy(c);
    fclose(f);
    *out = y;
    return WW_OK;
fail:
    if (c != NULL)
        yr_compiler_destroy(c);
    fclose(f);
    free(y);
    yara_users--;
    yr_finalize();
    return rc;
}

typedef struct scan_ctx {
    ww_yara_match_fn fn;
    void *ud;
    int matches;
} scan_ctx;

static int on_scan(YR_SCAN_CONTEXT *context, int message, void *data, void *ud)
{
    scan_ctx *sc = ud;
    (void)context;
    if (message == CALLBACK_MSG_RULE_MATCHING) {
        const YR_RULE *rule = data;
        const YR_META *meta;
        const char *severity = NULL, *description = NULL;
        yr_rule_metas_foreach(rule, meta)
        {
            if (meta->type != META_TYPE_STRING)
                continue;
            if (strcmp(meta->identifier, "severity") == 0)
                severity = meta->string;
            else if (strcmp(meta->identifier, "description") == 0)
                description = meta->string;
        }
        sc->matches++;
        sc->fn(sc->ud, rule->identifier, severity, description);
    }
    return CALLBACK_CONTINUE;
}

int ww_yara_scan(ww_yara *y, const uint8_t *p, size_t n, ww_yara_match_fn fn, void *ud)
{
    scan_ctx sc = {fn, ud, 0};
    WW_ASSERT(y != NULL && fn != NULL);
    int rc = yr_rules_scan_mem(y->rules, p, n, SCAN_FLAGS_FAST_MODE, on_scan, &sc, 1);
    if (rc == ERROR_SCAN_TIMEOUT || rc == ERROR_INSUFFICIENT_MEMORY)
        return WW_E_TOOBIG;
    if (rc != ERROR_SUCCESS)
        return WW_E_INTERNAL;
    return sc.matches;
}

void ww_yara_free(ww_yara *y)
{
    if (y == NULL)
        return;
    yr_rules_destroy(y->rules);
    free(y);
    if (yara_users > 0) {
        yara_users--;
        yr_finalize();
    }
}

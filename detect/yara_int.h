/*
 * yara_int.h - users' own signatures over served scripts, through libyara.
 *
 * detect/ runs them over the script bodies decode/ hands over (sink->script_body) and
 * raises yara-match for each rule that matched.
 */
#ifndef WW_YARA_INT_H
#define WW_YARA_INT_H

#include "detect/detect.h"

/* ww_yara, ww_yara_load and ww_yara_free are public: detect/detect.h. */

/* Called once per matching rule. severity and description come from the rule's string metas
 * of those names and are NULL when absent. All strings live for the call only. */
typedef void (*ww_yara_match_fn)(void *ud, const char *rule, const char *severity,
                                 const char *description);

/* Scans one body (timeout: 1 s). Returns the number of rules that matched, or a negative
 * WW_E_* (WW_E_TOOBIG when the scan ran out of time or memory). */
int ww_yara_scan(ww_yara *y, const uint8_t *p, size_t n, ww_yara_match_fn fn, void *ud);

#endif

// Typed wrappers for libcurl's variadic functions, which Swift cannot call.
#ifndef SETUPLINK_CCURL_SHIM_H
#define SETUPLINK_CCURL_SHIM_H
#include <curl/curl.h>

static inline CURLcode setuplink_curl_setopt_long(CURL *h, CURLoption o, long v) { return curl_easy_setopt(h, o, v); }
static inline CURLcode setuplink_curl_setopt_string(CURL *h, CURLoption o, const char *v) { return curl_easy_setopt(h, o, v); }
static inline CURLcode setuplink_curl_setopt_pointer(CURL *h, CURLoption o, void *v) { return curl_easy_setopt(h, o, v); }
static inline CURLcode setuplink_curl_setopt_slist(CURL *h, CURLoption o, struct curl_slist *v) { return curl_easy_setopt(h, o, v); }
static inline CURLcode setuplink_curl_setopt_off(CURL *h, CURLoption o, curl_off_t v) { return curl_easy_setopt(h, o, v); }
typedef size_t (*setuplink_curl_write_fn)(char *, size_t, size_t, void *);
static inline CURLcode setuplink_curl_setopt_writefn(CURL *h, CURLoption o, setuplink_curl_write_fn f) { return curl_easy_setopt(h, o, f); }
typedef int (*setuplink_curl_xferinfo_fn)(void *, curl_off_t, curl_off_t, curl_off_t, curl_off_t);
static inline CURLcode setuplink_curl_setopt_xferinfofn(CURL *h, setuplink_curl_xferinfo_fn f) { return curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, f); }
static inline CURLcode setuplink_curl_getinfo_long(CURL *h, CURLINFO i, long *v) { return curl_easy_getinfo(h, i, v); }
static inline CURLcode setuplink_curl_getinfo_off(CURL *h, CURLINFO i, curl_off_t *v) { return curl_easy_getinfo(h, i, v); }
#endif

#ifndef CCURL_SHIM_H
#define CCURL_SHIM_H
#include <curl/curl.h>
#include <dlfcn.h>
#include <stddef.h>

// libcurl is loaded on first use with dlopen rather than linked: only the Lambda Runtime API
// transport needs it, and linking it makes every handler's cold start load libcurl and its
// dependencies (GnuTLS, Kerberos, LDAP, ...), several milliseconds, even under the emulator.

typedef struct {
    CURLcode (*global_init)(long);
    CURL *(*easy_init)(void);
    void (*easy_cleanup)(CURL *);
    CURLcode (*easy_setopt)(CURL *, CURLoption, ...);
    CURLcode (*easy_perform)(CURL *);
    CURLcode (*easy_getinfo)(CURL *, CURLINFO, ...);
    const char *(*easy_strerror)(CURLcode);
    struct curl_slist *(*slist_append)(struct curl_slist *, const char *);
    void (*slist_free_all)(struct curl_slist *);
} ccurl_api_t;

// Called once, from one thread, before any other ccurl_ function. NULL when libcurl is missing.
static inline const ccurl_api_t *ccurl_api(void) {
    static ccurl_api_t api;
    static int state = 0;  // 0 not tried, 1 loaded, -1 unavailable
    if (state != 0) return state == 1 ? &api : NULL;
    void *h = dlopen("libcurl.so.4", RTLD_NOW | RTLD_LOCAL);
    if (!h) h = dlopen("libcurl.so", RTLD_NOW | RTLD_LOCAL);
    if (!h) { state = -1; return NULL; }
#define CCURL_LOAD(field, symbol) \
    api.field = (__typeof__(api.field))dlsym(h, symbol); \
    if (!api.field) { state = -1; return NULL; }
    CCURL_LOAD(global_init, "curl_global_init")
    CCURL_LOAD(easy_init, "curl_easy_init")
    CCURL_LOAD(easy_cleanup, "curl_easy_cleanup")
    CCURL_LOAD(easy_setopt, "curl_easy_setopt")
    CCURL_LOAD(easy_perform, "curl_easy_perform")
    CCURL_LOAD(easy_getinfo, "curl_easy_getinfo")
    CCURL_LOAD(easy_strerror, "curl_easy_strerror")
    CCURL_LOAD(slist_append, "curl_slist_append")
    CCURL_LOAD(slist_free_all, "curl_slist_free_all")
#undef CCURL_LOAD
    state = 1;
    return &api;
}

static inline int ccurl_load(void) { return ccurl_api() != NULL && ccurl_api()->global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK; }
static inline CURL *ccurl_easy_init(void) { return ccurl_api()->easy_init(); }
static inline void ccurl_easy_cleanup(CURL *h) { ccurl_api()->easy_cleanup(h); }
static inline CURLcode ccurl_easy_perform(CURL *h) { return ccurl_api()->easy_perform(h); }
static inline const char *ccurl_easy_strerror(CURLcode c) { return ccurl_api()->easy_strerror(c); }
static inline struct curl_slist *ccurl_slist_append(struct curl_slist *l, const char *s) { return ccurl_api()->slist_append(l, s); }
static inline void ccurl_slist_free_all(struct curl_slist *l) { ccurl_api()->slist_free_all(l); }

// curl_easy_setopt/getinfo are variadic, which Swift cannot call; these typed wrappers can be.
static inline CURLcode ccurl_setopt_long(CURL *h, CURLoption o, long v) { return ccurl_api()->easy_setopt(h, o, v); }
static inline CURLcode ccurl_setopt_ptr(CURL *h, CURLoption o, const void *v) { return ccurl_api()->easy_setopt(h, o, v); }
static inline CURLcode ccurl_setopt_write(CURL *h, size_t (*f)(char *, size_t, size_t, void *)) { return ccurl_api()->easy_setopt(h, CURLOPT_WRITEFUNCTION, f); }
static inline CURLcode ccurl_setopt_header(CURL *h, size_t (*f)(char *, size_t, size_t, void *)) { return ccurl_api()->easy_setopt(h, CURLOPT_HEADERFUNCTION, f); }
static inline CURLcode ccurl_setopt_read(CURL *h, size_t (*f)(char *, size_t, size_t, void *)) { return ccurl_api()->easy_setopt(h, CURLOPT_READFUNCTION, f); }
static inline CURLcode ccurl_setopt_trailer(CURL *h, int (*f)(struct curl_slist **, void *)) { return ccurl_api()->easy_setopt(h, CURLOPT_TRAILERFUNCTION, f); }
static inline CURLcode ccurl_getinfo_long(CURL *h, CURLINFO i, long *v) { return ccurl_api()->easy_getinfo(h, i, v); }
#endif

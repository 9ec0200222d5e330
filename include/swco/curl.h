/* libswco: libcurl transfers that yield the calling coroutine instead of
 * blocking the thread. */
#ifndef SWCO_CURL_H
#define SWCO_CURL_H

#include <curl/curl.h>
#include <swco/export.h>

SWCO_BEGIN_DECLS

/**
 * swco_curl_perform - run a libcurl easy transfer, yielding the coroutine
 *
 * Performs the transfer set up on easy, like curl_easy_perform(), but
 * inside a coroutine only the calling coroutine waits: the thread's event
 * loop runs other coroutines meanwhile.  Every easy option keeps working
 * (headers, POST bodies, redirects, timeouts, HTTPS, HTTP/2, proxies), and
 * the handle's write, header, read and progress callbacks run on the
 * calling coroutine's stack, so they may themselves wait on coroutine I/O.
 * A second call on the same handle reuses its connection as plain libcurl
 * does.  Outside a coroutine it is curl_easy_perform().
 *
 * Returns the transfer's CURLcode.  An easy handle that is already in a
 * transfer (for instance in another coroutine) gives CURLE_FAILED_INIT with
 * swco_last_error() set to -EBUSY; a cancelled coroutine gives
 * CURLE_ABORTED_BY_CALLBACK with swco_last_error() -ECANCELED.
 */
SWCO_API CURLcode swco_curl_perform(CURL *easy);

/**
 * swco_curl_cleanup - close the calling thread's idle curl connections
 *
 * swco_curl_perform() keeps, per thread, the private multi handles it used
 * and their open connections for reuse by later transfers.  This closes
 * them all; call it before curl_global_cleanup() or when the thread is
 * done with curl.  Transfers still running are not affected.  Returns 0.
 */
SWCO_API int swco_curl_cleanup(void);

SWCO_END_DECLS

#endif /* SWCO_CURL_H */

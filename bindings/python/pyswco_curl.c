/* Python side of the HTTP client: swco.http_request() over swco_http_client.
 *
 * pyswco_curl_request() checks the Python arguments, runs the request on a
 * swco_http_client (include/swco/http_client.h) and returns (status,
 * headers, body, effective url).  Each thread keeps a few idle clients, one
 * per origin (scheme://host:port) it talked to last, so a later request to
 * the same host reuses the open connection (keep-alive per host, as the
 * multi pool of swco_curl_perform() gave the hand-written client before);
 * a client's cookies and headers are cleared when it goes back, so requests
 * stay independent.  pyswco_curl_flush() (swco.curl_cleanup) closes them.
 * Inside a coroutine only that coroutine waits; the GIL stays held, since
 * the call switches coroutines.  No Python code runs during the transfer,
 * so outside a coroutine, where the request blocks the thread, the GIL is
 * released. */
#include "pyswco.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <swco/curl.h>
#include <swco/http_client.h>

#define MAX_REDIRECTS 20L

static PyObject *exc_curl, *exc_curl_timeout;

/* ------------------------------------------------------- idle clients */

#define IDLE_MAX 8

typedef struct idle {
    char *origin;
    swco_http_client_t *c;
} idle_t;

static __thread idle_t idle[IDLE_MAX];
static __thread int nidle;

/* "scheme://authority" of an http(s) URL, lower-cased; NULL for others. */
static char *origin_of(const char *url)
{
    size_t skip = strncasecmp(url, "http://", 7) == 0 ? 7 : strncasecmp(url, "https://", 8) == 0 ? 8 : 0;
    if (!skip)
        return NULL;
    size_t n = skip + strcspn(url + skip, "/?#");
    char *o = strndup(url, n);
    for (char *p = o; p && *p; p++)
        if (*p >= 'A' && *p <= 'Z')
            *p = (char)(*p - 'A' + 'a');
    return o;
}

static swco_http_client_t *client_take(const char *origin)
{
    for (int i = nidle - 1; origin && i >= 0; i--)
        if (strcmp(idle[i].origin, origin) == 0) {
            swco_http_client_t *c = idle[i].c;
            free(idle[i].origin);
            idle[i] = idle[--nidle];
            return c;
        }
    return swco_http_client_new(NULL);
}

static void client_give_back(swco_http_client_t *c, char *origin)
{
    swco_http_client_clear_headers(c);
    swco_http_client_clear_cookies(c);
    if (!origin) {
        swco_http_client_free(c);
        return;
    }
    if (nidle == IDLE_MAX) { /* the oldest goes */
        swco_http_client_free(idle[0].c);
        free(idle[0].origin);
        memmove(idle, idle + 1, sizeof idle[0] * (IDLE_MAX - 1));
        nidle--;
    }
    idle[nidle].origin = origin;
    idle[nidle].c = c;
    nidle++;
}

PyObject *pyswco_curl_flush(void)
{
    while (nidle > 0) {
        nidle--;
        swco_http_client_free(idle[nidle].c);
        free(idle[nidle].origin);
    }
    Py_RETURN_NONE;
}

/* ------------------------------------------------------------- results */

/* The response's header lines as a list of (name, value) str pairs, in
 * order and with repeats. */
static PyObject *header_list(const swco_http_client_t *c)
{
    int n = swco_http_client_header_count(c);
    PyObject *list = PyList_New(0);
    for (int i = 0; list && i < n; i++) {
        const char *name = swco_http_client_header_name(c, i);
        const char *value = swco_http_client_header_value(c, i);
        PyObject *pair = Py_BuildValue("(NN)", PyUnicode_DecodeLatin1(name, strlen(name), NULL),
                                       PyUnicode_DecodeLatin1(value, strlen(value), NULL));
        if (!pair || PyList_Append(list, pair) < 0)
            Py_CLEAR(list);
        Py_XDECREF(pair);
    }
    return list;
}

/* Raise CurlError (CurlTimeoutError for a timeout, CancelledError when the
 * coroutine was cancelled) for a failed transfer. */
static PyObject *curl_raise(CURLcode rc, const char *detail)
{
    if (rc == CURLE_ABORTED_BY_CALLBACK && swco_last_error() == -ECANCELED)
        return pyswco_raise(-ECANCELED);
    int timeout = rc == CURLE_OPERATION_TIMEDOUT;
    int code = timeout ? -ETIMEDOUT : SWCO_ECURL;
    PyObject *cls = timeout ? exc_curl_timeout : exc_curl;
    const char *what = *detail ? detail : curl_easy_strerror(rc);
    PyObject *exc =
        PyObject_CallFunction(cls, "N", PyUnicode_FromFormat("%s (curl code %d)", what, (int)rc));
    if (!exc)
        return NULL;
    PyObject *attrs = Py_BuildValue("{s:i,s:s,s:i}", "code", code, "name", swco_err_name(code),
                                    "curl_code", (int)rc);
    PyObject *k, *v;
    Py_ssize_t pos = 0;
    int ok = attrs != NULL;
    while (ok && PyDict_Next(attrs, &pos, &k, &v))
        ok = PyObject_SetAttr(exc, k, v) == 0;
    if (ok)
        PyErr_SetObject(cls, exc);
    Py_XDECREF(attrs);
    Py_DECREF(exc);
    return NULL;
}

/* ----------------------------------------------------------- arguments */

/* str (UTF-8, no NUL) as a C string borrowed from obj; NULL with TypeError
 * or ValueError set. */
static const char *text_arg(PyObject *obj, const char *what)
{
    if (!PyUnicode_Check(obj)) {
        PyErr_Format(PyExc_TypeError, "%s must be str, not %.100s", what, Py_TYPE(obj)->tp_name);
        return NULL;
    }
    Py_ssize_t len;
    const char *s = PyUnicode_AsUTF8AndSize(obj, &len);
    if (s && strlen(s) != (size_t)len) {
        PyErr_Format(PyExc_ValueError, "%s contains a NUL character", what);
        return NULL;
    }
    return s;
}

/* A header name or value (str or bytes) as a C string, checked for the
 * characters that would end the line or the name. */
static const char *header_part(PyObject *obj, int is_name)
{
    const char *s;
    Py_ssize_t len;
    if (PyBytes_Check(obj)) {
        s = PyBytes_AS_STRING(obj);
        len = PyBytes_GET_SIZE(obj);
    } else if (PyUnicode_Check(obj)) {
        s = PyUnicode_AsUTF8AndSize(obj, &len);
        if (!s)
            return NULL;
    } else {
        PyErr_Format(PyExc_TypeError, "header %s must be str or bytes, not %.100s",
                     is_name ? "names" : "values", Py_TYPE(obj)->tp_name);
        return NULL;
    }
    const char *bad = is_name ? "\r\n\0: \t;" : "\r\n\0";
    size_t nbad = is_name ? 7 : 3;
    for (Py_ssize_t i = 0; i < len; i++)
        if (memchr(bad, s[i], nbad)) {
            PyErr_Format(PyExc_ValueError, "invalid character in header %s %R",
                         is_name ? "name" : "value", obj);
            return NULL;
        }
    if (is_name && len == 0) {
        PyErr_SetString(PyExc_ValueError, "empty header name");
        return NULL;
    }
    return s;
}

/* Add headers (a mapping or an iterable of pairs) to the client's request.
 * 0, or -1 with an exception set. */
static int header_lines(PyObject *headers, swco_http_client_t *c)
{
    if (headers == Py_None)
        return 0;
    PyObject *items = PyDict_Check(headers) || PyObject_HasAttrString(headers, "items")
                          ? PyMapping_Items(headers)
                          : PySequence_List(headers);
    if (!items) {
        if (PyErr_ExceptionMatches(PyExc_TypeError)) {
            PyErr_Clear();
            PyErr_SetString(PyExc_TypeError,
                            "headers must be a mapping or an iterable of (name, value) pairs");
        }
        return -1;
    }
    int rc = 0;
    for (Py_ssize_t i = 0; rc == 0 && i < PyList_GET_SIZE(items); i++) {
        PyObject *pair = PyList_GET_ITEM(items, i);
        if (!(PyTuple_Check(pair) || PyList_Check(pair)) || PySequence_Fast_GET_SIZE(pair) != 2) {
            PyErr_SetString(PyExc_TypeError, "each header must be a (name, value) pair");
            rc = -1;
            break;
        }
        const char *name = header_part(PySequence_Fast_GET_ITEM(pair, 0), 1);
        const char *value = name ? header_part(PySequence_Fast_GET_ITEM(pair, 1), 0) : NULL;
        if (!value) {
            rc = -1;
        } else if (swco_http_client_add_header(c, name, value) < 0) {
            PyErr_NoMemory(); /* the characters were checked above */
            rc = -1;
        }
    }
    Py_DECREF(items);
    return rc;
}

/* The request body (None, a bytes-like object or str, sent as UTF-8) in
 * *view; 1 when there is one, 0 for None, -1 with an exception set. */
static int body_arg(PyObject *body, Py_buffer *view)
{
    if (body == Py_None)
        return 0;
    if (PyUnicode_Check(body)) {
        Py_ssize_t len;
        const char *s = PyUnicode_AsUTF8AndSize(body, &len);
        if (!s || PyBuffer_FillInfo(view, body, (void *)s, len, 1, PyBUF_SIMPLE) < 0)
            return -1;
        return 1;
    }
    if (PyObject_GetBuffer(body, view, PyBUF_SIMPLE) < 0) {
        PyErr_Format(PyExc_TypeError, "body must be bytes, a bytes-like object or str, not %.100s",
                     Py_TYPE(body)->tp_name);
        return -1;
    }
    return 1;
}

static int method_check(const char *method, int has_body)
{
    for (const char *c = method; *c; c++)
        if (*c <= ' ' || *c >= 127 || strchr("()<>@,;:\\\"/[]?={}", *c)) {
            PyErr_Format(PyExc_ValueError, "invalid HTTP method %s", method);
            return -1;
        }
    if (!*method) {
        PyErr_SetString(PyExc_ValueError, "empty HTTP method");
        return -1;
    }
    if (strcmp(method, "HEAD") == 0 && has_body) {
        PyErr_SetString(PyExc_ValueError, "a HEAD request has no body");
        return -1;
    }
    return 0;
}

/* ------------------------------------------------------------- request */

PyObject *pyswco_curl_request(PyObject *url, PyObject *method, PyObject *body, PyObject *headers,
                              double timeout, int follow, int verify)
{
    const char *curl_url = text_arg(url, "url");
    const char *curl_method = curl_url ? text_arg(method, "method") : NULL;
    if (!curl_method)
        return NULL;
    Py_buffer view = {0};
    int has_body = body_arg(body, &view);
    if (has_body < 0)
        return NULL;
    PyObject *result = NULL;
    char *origin = NULL;
    swco_http_client_t *c = NULL;
    if (method_check(curl_method, has_body > 0) < 0)
        goto done;
    origin = origin_of(curl_url);
    c = client_take(origin);
    if (!c) {
        PyErr_NoMemory();
        goto done;
    }
    if (header_lines(headers, c) < 0)
        goto done;
    swco_http_client_set_timeout(c, 0, timeout > 0 ? timeout : 0);
    swco_http_client_set(c, "follow_redirects", follow ? "20" : "0");
    swco_http_client_set(c, "ssl_verify_peer", verify ? "1" : "0");
    swco_http_client_set(c, "ssl_verify_host", verify ? "1" : "0");
    if (has_body > 0 && swco_http_client_set_body(c, view.buf, (size_t)view.len, NULL) < 0) {
        PyErr_NoMemory();
        goto done;
    }
    int rc;
    if (swco_coroutine_id() == 0) { /* blocks the thread: let others run */
        Py_BEGIN_ALLOW_THREADS
        rc = swco_http_client_request(c, curl_method, curl_url);
        Py_END_ALLOW_THREADS
    } else {
        rc = swco_http_client_request(c, curl_method, curl_url); /* yields: keep the GIL */
    }
    if (rc < 0) {
        int cc = swco_http_client_curl_code(c);
        if (rc == -ENOMEM)
            PyErr_NoMemory();
        else if (rc == -ECANCELED || cc == CURLE_OK)
            pyswco_raise(rc);
        else
            curl_raise((CURLcode)cc, swco_http_client_error_message(c));
        goto done;
    }
    const char *data = NULL;
    long len = swco_http_client_body(c, &data);
    const char *where = swco_http_client_effective_url(c);
    result = Py_BuildValue("(iNNN)", rc, header_list(c),
                           PyBytes_FromStringAndSize(data, (Py_ssize_t)len),
                           PyUnicode_DecodeFSDefault(where ? where : ""));
done:
    if (c) {
        client_give_back(c, origin);
        origin = NULL;
    }
    free(origin);
    if (has_body > 0)
        PyBuffer_Release(&view);
    return result;
}

/* ----------------------------------------------------------------- init */

int pyswco_curl_init(PyObject *dict)
{
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        PyErr_SetString(PyExc_ImportError, "swco: curl_global_init() failed");
        return -1;
    }
    PyObject *error = PyDict_GetItemString(dict, "Error");
    PyObject *timeout = PyDict_GetItemString(dict, "TimeoutError");
    if (!error || !timeout) {
        PyErr_SetString(PyExc_ImportError, "swco: the base exceptions are missing");
        return -1;
    }
    exc_curl = PyErr_NewExceptionWithDoc(
        "swco.CurlError",
        "A libcurl transfer failed: .curl_code is libcurl's CURLcode (7: could not "
        "connect, 3: malformed URL, ...), the message libcurl's; .code is SWCO_ECURL.",
        error, NULL);
    if (!exc_curl || PyDict_SetItemString(dict, "CurlError", exc_curl) < 0)
        return -1;
    PyObject *bases = PyTuple_Pack(2, exc_curl, timeout);
    if (!bases)
        return -1;
    exc_curl_timeout = PyErr_NewExceptionWithDoc(
        "swco.CurlTimeoutError",
        "A libcurl transfer ran out of time (curl_code 28, CURLE_OPERATION_TIMEDOUT; .code "
        "-ETIMEDOUT): both a CurlError and a swco.TimeoutError.",
        bases, NULL);
    Py_DECREF(bases);
    if (!exc_curl_timeout || PyDict_SetItemString(dict, "CurlTimeoutError", exc_curl_timeout) < 0)
        return -1;
    return 0;
}

/* Python side of swco_curl_perform(): the HTTP client behind
 * swco.http_request().
 *
 * pyswco_curl_request() sets up a libcurl easy handle from the Python
 * arguments, runs it with swco_curl_perform() and returns (status, headers,
 * body, effective url).  Inside a coroutine only that coroutine waits; the
 * GIL stays held, since the call switches coroutines.  The write and header
 * callbacks only append to C buffers and no Python code runs during the
 * transfer, so outside a coroutine, where swco_curl_perform() is
 * curl_easy_perform() and blocks the thread, the GIL is released. */
#include "pyswco.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <swco/curl.h>

#define MAX_REDIRECTS 20L

static PyObject *exc_curl, *exc_curl_timeout;

/* ------------------------------------------------------------- buffers */

typedef struct buf {
    char *data;
    size_t len, cap;
    int failed; /* out of memory */
} buf_t;

static size_t buf_add(buf_t *b, const char *p, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->len + n + 1)
            cap *= 2;
        char *d = realloc(b->data, cap);
        if (!d) {
            b->failed = 1;
            return 0; /* libcurl ends the transfer with CURLE_WRITE_ERROR */
        }
        b->data = d;
        b->cap = cap;
    }
    memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
    return n;
}

static size_t body_cb(char *p, size_t size, size_t n, void *arg)
{
    return buf_add(arg, p, size * n);
}

static int is_status_line(const char *p, size_t len)
{
    return len >= 5 && memcmp(p, "HTTP/", 5) == 0;
}

/* Keeps the header lines of the last response only: a status line (after
 * a redirect or a 100 Continue) starts the block again. */
static size_t header_cb(char *p, size_t size, size_t n, void *arg)
{
    buf_t *b = arg;
    if (is_status_line(p, size * n))
        b->len = 0;
    return buf_add(b, p, size * n);
}

/* ------------------------------------------------------------- results */

static const char *skip_blanks(const char *p, const char *stop)
{
    while (p < stop && (*p == ' ' || *p == '\t'))
        p++;
    return p;
}

/* One header line (without its end) into list: "name: value" appends a
 * pair, a folded line continues the previous value.  0 or -1. */
static int header_add(PyObject *list, const char *p, const char *stop)
{
    Py_ssize_t count = PyList_GET_SIZE(list);
    const char *colon = memchr(p, ':', (size_t)(stop - p));
    int folded = (*p == ' ' || *p == '\t') && count > 0;
    PyObject *name, *value;
    if (folded) {
        PyObject *last = PyList_GET_ITEM(list, count - 1);
        p = skip_blanks(p, stop);
        PyObject *more = PyUnicode_DecodeLatin1(p, stop - p, NULL);
        name = PyTuple_GET_ITEM(last, 0);
        Py_INCREF(name);
        value = more ? PyUnicode_FromFormat("%U %U", PyTuple_GET_ITEM(last, 1), more) : NULL;
        Py_XDECREF(more);
    } else if (colon && colon > p && !is_status_line(p, (size_t)(stop - p))) {
        const char *v = skip_blanks(colon + 1, stop);
        name = PyUnicode_DecodeLatin1(p, colon - p, NULL);
        value = PyUnicode_DecodeLatin1(v, stop - v, NULL);
    } else {
        return 0; /* the status line, the blank line */
    }
    PyObject *pair = name && value ? PyTuple_Pack(2, name, value) : NULL;
    Py_XDECREF(name);
    Py_XDECREF(value);
    if (!pair)
        return -1;
    if (folded)
        return PyList_SetItem(list, count - 1, pair); /* steals pair */
    int rc = PyList_Append(list, pair);
    Py_DECREF(pair);
    return rc;
}

/* The header block as a list of (name, value) str pairs, in order and with
 * repeats. */
static PyObject *header_list(const buf_t *b)
{
    PyObject *list = PyList_New(0);
    const char *p = b->data, *end = b->data + b->len;
    while (list && p && p < end) {
        const char *eol = memchr(p, '\n', (size_t)(end - p));
        const char *stop = eol ? eol : end;
        while (stop > p && (stop[-1] == '\r' || stop[-1] == ' ' || stop[-1] == '\t'))
            stop--;
        if (stop > p && header_add(list, p, stop) < 0)
            Py_CLEAR(list);
        p = eol ? eol + 1 : end;
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

/* Append "name: value" lines for headers (a mapping or an iterable of
 * pairs) to *list; *expect is set when the caller gave an Expect header.
 * 0, or -1 with an exception set. */
static int header_lines(PyObject *headers, struct curl_slist **list, int *expect)
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
        /* "name;" is how libcurl sends a header with an empty value */
        PyObject *line = value ? PyBytes_FromFormat(*value ? "%s: %s" : "%s;", name, value) : NULL;
        struct curl_slist *more = line ? curl_slist_append(*list, PyBytes_AS_STRING(line)) : NULL;
        if (line && !more)
            PyErr_NoMemory();
        if (more) {
            *list = more;
            if (strncasecmp(name, "expect", 7) == 0)
                *expect = 1;
        } else {
            rc = -1;
        }
        Py_XDECREF(line);
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

static int set_method(CURL *easy, const char *method, int has_body, const Py_buffer *body)
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
    if (strcmp(method, "HEAD") == 0) {
        if (has_body) {
            PyErr_SetString(PyExc_ValueError, "a HEAD request has no body");
            return -1;
        }
        curl_easy_setopt(easy, CURLOPT_NOBODY, 1L);
        return 0;
    }
    if (has_body || strcmp(method, "POST") == 0) {
        curl_easy_setopt(easy, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)(has_body ? body->len : 0));
        curl_easy_setopt(easy, CURLOPT_POSTFIELDS, has_body ? (const char *)body->buf : "");
    }
    if (strcmp(method, "POST") != 0 && (has_body || strcmp(method, "GET") != 0))
        curl_easy_setopt(easy, CURLOPT_CUSTOMREQUEST, method);
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
    struct curl_slist *lines = NULL;
    int expect = 0;
    CURL *easy = NULL;
    buf_t out = {0}, head = {0};
    char errbuf[CURL_ERROR_SIZE] = "";
    char *effective = NULL;
    long status = 0;
    CURLcode rc;
    PyObject *result = NULL;
    if (header_lines(headers, &lines, &expect) < 0)
        goto done;
    if (!expect) { /* no "Expect: 100-continue" wait before a body */
        struct curl_slist *more = curl_slist_append(lines, "Expect:");
        if (!more) {
            PyErr_NoMemory();
            goto done;
        }
        lines = more;
    }
    easy = curl_easy_init();
    if (!easy) {
        PyErr_NoMemory();
        goto done;
    }
    if (set_method(easy, curl_method, has_body > 0, &view) < 0)
        goto done;
    curl_easy_setopt(easy, CURLOPT_URL, curl_url);
    curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
#if LIBCURL_VERSION_NUM >= 0x075500 /* 7.85 */
    curl_easy_setopt(easy, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(easy, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
#else
    curl_easy_setopt(easy, CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
    curl_easy_setopt(easy, CURLOPT_REDIR_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
    curl_easy_setopt(easy, CURLOPT_HTTPHEADER, lines);
    curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, body_cb);
    curl_easy_setopt(easy, CURLOPT_WRITEDATA, &out);
    curl_easy_setopt(easy, CURLOPT_HEADERFUNCTION, header_cb);
    curl_easy_setopt(easy, CURLOPT_HEADERDATA, &head);
    curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, errbuf);
    if (timeout > 0) {
        double ms = timeout * 1000.0 + 0.5;
        curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, ms < 1 ? 1L : ms > 1e15 ? 0L : (long)ms);
    }
    if (follow) {
        curl_easy_setopt(easy, CURLOPT_FOLLOWLOCATION, 1L);
        curl_easy_setopt(easy, CURLOPT_MAXREDIRS, MAX_REDIRECTS);
    }
    if (!verify) {
        curl_easy_setopt(easy, CURLOPT_SSL_VERIFYPEER, 0L);
        curl_easy_setopt(easy, CURLOPT_SSL_VERIFYHOST, 0L);
    }

    if (swco_coroutine_id() == 0) { /* curl_easy_perform(): let others run */
        Py_BEGIN_ALLOW_THREADS
        rc = swco_curl_perform(easy);
        Py_END_ALLOW_THREADS
    } else {
        rc = swco_curl_perform(easy); /* yields: keep the GIL */
    }
    if (out.failed || head.failed) {
        PyErr_NoMemory();
        goto done;
    }
    if (rc != CURLE_OK) {
        curl_raise(rc, errbuf);
        goto done;
    }
    curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_getinfo(easy, CURLINFO_EFFECTIVE_URL, &effective);
    result = Py_BuildValue("(lNNN)", status, header_list(&head),
                           PyBytes_FromStringAndSize(out.data ? out.data : "", (Py_ssize_t)out.len),
                           PyUnicode_DecodeFSDefault(effective ? effective : ""));
done:
    curl_easy_cleanup(easy);
    curl_slist_free_all(lines);
    free(out.data);
    free(head.data);
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

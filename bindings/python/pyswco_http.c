/* swco.http's request accessors that hand Python many values in one call
 * (bindings/python/swco.py wraps them): field lists as (name, value)
 * pairs with the values as bytes (they may hold NUL bytes), uploaded
 * files, the body and the request line.  Each is called in the handler's
 * coroutine while its request lives. */
#include "pyswco.h"

/* A list of (name: str, value: bytes) for one kind of field. */
PyObject *pyswco_http_params(swco_http_request_t *req, int kind)
{
    if (!req || kind < SWCO_HTTP_HEADER || kind > SWCO_HTTP_COOKIE)
        return pyswco_raise(-EINVAL);
    size_t n = swco_http_request_param_count(req, kind);
    PyObject *list = PyList_New((Py_ssize_t)n);
    for (size_t i = 0; list && i < n; i++) {
        const char *name = swco_http_request_param_name(req, kind, i);
        const char *value = swco_http_request_param_value(req, kind, i);
        size_t vlen = swco_http_request_param_value_len(req, kind, i);
        PyObject *pair = Py_BuildValue("(Ny#)",
                                       PyUnicode_DecodeUTF8(name ? name : "",
                                                            (Py_ssize_t)strlen(name ? name : ""),
                                                            "surrogateescape"),
                                       value ? value : "", (Py_ssize_t)(value ? vlen : 0));
        if (!pair)
            Py_CLEAR(list);
        else
            PyList_SET_ITEM(list, (Py_ssize_t)i, pair);
    }
    return list;
}

static PyObject *text_or_none(const char *s)
{
    if (!s)
        Py_RETURN_NONE;
    return PyUnicode_DecodeUTF8(s, (Py_ssize_t)strlen(s), "surrogateescape");
}

/* A list of (field, name, type, size, tmp_path, data, error) tuples. */
PyObject *pyswco_http_files(swco_http_request_t *req)
{
    if (!req)
        return pyswco_raise(-EINVAL);
    size_t n = swco_http_request_file_count(req);
    PyObject *list = PyList_New((Py_ssize_t)n);
    for (size_t i = 0; list && i < n; i++) {
        const char *data = swco_http_request_file_data(req, i);
        long long size = swco_http_request_file_size(req, i);
        PyObject *bytes;
        if (data) {
            bytes = PyBytes_FromStringAndSize(data, (Py_ssize_t)(size > 0 ? size : 0));
        } else {
            bytes = Py_None;
            Py_INCREF(bytes);
        }
        PyObject *t = Py_BuildValue("(NNNLNNi)", text_or_none(swco_http_request_file_field(req, i)),
                                    text_or_none(swco_http_request_file_name(req, i)),
                                    text_or_none(swco_http_request_file_type(req, i)), size,
                                    text_or_none(swco_http_request_file_tmp_path(req, i)), bytes,
                                    swco_http_request_file_error(req, i));
        if (!t)
            Py_CLEAR(list);
        else
            PyList_SET_ITEM(list, (Py_ssize_t)i, t);
    }
    return list;
}

/* The body as bytes (b"" when there is none); raises when loading it
 * failed. */
PyObject *pyswco_http_body(swco_http_request_t *req)
{
    if (!req)
        return pyswco_raise(-EINVAL);
    size_t len = 0;
    swco_set_last_error(0);
    const char *body = swco_http_request_body(req, &len);
    if (!body) {
        int err = swco_last_error();
        if (err < 0)
            return pyswco_raise(err);
        return PyBytes_FromStringAndSize("", 0);
    }
    return PyBytes_FromStringAndSize(body, (Py_ssize_t)len);
}

/* (method, uri, path, query_string, version, fd, listener, remote_addr,
 * remote_port, content_length) */
PyObject *pyswco_http_request_info(swco_http_request_t *req)
{
    if (!req)
        return pyswco_raise(-EINVAL);
    return Py_BuildValue("(NNNNiLiNiL)", text_or_none(swco_http_request_method(req)),
                         text_or_none(swco_http_request_uri(req)),
                         text_or_none(swco_http_request_path(req)),
                         text_or_none(swco_http_request_query_string(req)),
                         swco_http_request_version(req), swco_http_request_fd(req),
                         swco_http_request_listener(req),
                         text_or_none(swco_http_request_remote_addr(req)),
                         swco_http_request_remote_port(req),
                         swco_http_request_content_length(req));
}

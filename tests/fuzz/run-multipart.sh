#!/bin/sh
# Run the request body (multipart, urlencoded, cookie) fuzz target over its
# corpus (and its built-in random inputs).
exec tests/fuzz/fuzz_multipart "$top_srcdir"/tests/fuzz/corpus/multipart/*

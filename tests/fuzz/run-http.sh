#!/bin/sh
# Run the HTTP/1 fuzz target over its corpus (and its built-in inputs).
exec tests/fuzz/fuzz_http "$top_srcdir"/tests/fuzz/corpus/http/*

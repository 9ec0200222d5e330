#!/bin/sh
# Run the socket read-ahead fuzz target over its corpus (and its built-in
# random programs).
exec tests/fuzz/fuzz_socket "$top_srcdir"/tests/fuzz/corpus/socket/*

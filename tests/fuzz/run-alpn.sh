#!/bin/sh
# Run the ALPN fuzz target over its corpus (and its built-in random inputs).
exec tests/fuzz/fuzz_alpn "$top_srcdir"/tests/fuzz/corpus/alpn/*

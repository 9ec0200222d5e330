#!/bin/sh
# Run the PROXY protocol header fuzz target over its corpus (and its
# built-in random inputs).
exec tests/fuzz/fuzz_proxy "$top_srcdir"/tests/fuzz/corpus/proxy/*

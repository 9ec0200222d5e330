#!/bin/sh
# Run the pool message reader fuzz target over its corpus (and its built-in
# random inputs).
exec tests/fuzz/fuzz_pool "$top_srcdir"/tests/fuzz/corpus/pool/*

#!/bin/sh
# Run the WebSocket frame reader fuzz target over its corpus (and its
# built-in pseudo-random inputs).
exec tests/fuzz/fuzz_ws "$top_srcdir"/tests/fuzz/corpus/ws/*

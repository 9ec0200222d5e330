#!/bin/sh
# Run the framing fuzz target over its corpus (and its built-in random inputs).
exec tests/fuzz/fuzz_framing "$top_srcdir"/tests/fuzz/corpus/framing/*

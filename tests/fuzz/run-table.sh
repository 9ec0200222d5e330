#!/bin/sh
# Run the table-header fuzz target over its corpus (and its built-in random inputs).
exec tests/fuzz/fuzz_table "$top_srcdir"/tests/fuzz/corpus/table/*

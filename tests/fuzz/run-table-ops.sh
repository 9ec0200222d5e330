#!/bin/sh
# Run the table-calls fuzz target over its corpus (and its built-in random inputs).
exec tests/fuzz/fuzz_table_ops "$top_srcdir"/tests/fuzz/corpus/table-ops/*

# Convenience targets; the scripts are the source of truth.
.PHONY: bench bench-quick

bench:
	bash bench/run.sh

bench-quick:
	bash bench/run.sh --quick

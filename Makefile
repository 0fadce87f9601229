# `make demo` and `make test` work on a fresh machine: both install into .venv first.
PY ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.install-stamp
DS_STAMP := $(VENV)/.deepspeed-stamp
export OMP_NUM_THREADS ?= 2

.PHONY: install browser-deps test test-extra demo lint clean
EXTRA_MARKS := distributed or browser or fuzz
# make test: one pytest worker per core; tests are single-threaded (OMP_NUM_THREADS=1) and mostly wait on
# subprocesses, so two workers nearly halve the wall time. TEST_WORKERS=0 runs in one process.
TEST_WORKERS ?= 2

install: $(STAMP)

$(STAMP): pyproject.toml requirements/core.txt requirements/test.txt
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	# CPU torch first, from the local wheel; nothing later may replace it.
	$(BIN)/python -m pip install -q torch==2.13.0
	$(BIN)/python -m pip install -q -e '.[test]'
	$(BIN)/python -c "import torch; assert torch.__version__.startswith('2.13.0'), torch.__version__"
	touch $(STAMP)

test: install
	OMP_NUM_THREADS=1 $(BIN)/python -m pytest tests -q -m "not ($(EXTRA_MARKS))" -n $(TEST_WORKERS)

# The browser tests drive Debian's chromium through playwright (whose own browser download cannot work offline);
# fonts-wqy-zenhei renders the Chinese labels.
browser-deps:
	test -x /usr/bin/chromium && fc-list | grep -qi wqy || (flock /tmp/apt.lock apt-get update -q && \
		flock /tmp/apt.lock apt-get install -y -q chromium fonts-wqy-zenhei)


# DeepSpeed for the multi-process tests: no CUDA ops at install; its CPU ops (shared-memory comm, Adam) are
# compiled once with g++ here and cached in ~/.cache/torch_extensions, so no test pays the build.
$(DS_STAMP): $(STAMP) requirements/deepspeed.txt
	command -v g++ >/dev/null || (apt-get update -q && apt-get install -y -q g++)
	DS_BUILD_OPS=0 $(BIN)/python -m pip install -q 'torch==2.13.0' -e '.[deepspeed]'
	$(BIN)/python -c "from deepspeed.ops.op_builder.cpu import ShareMemCommBuilder as S, FusedAdamBuilder as F, \
	CPUAdamBuilder as C; [b().load() for b in (S, F, C)]"
	touch $(DS_STAMP)

# Multi-process, browser and fuzz tests: slower, run by CI after `make test`.
test-extra: install browser-deps $(DS_STAMP)
	OMP_NUM_THREADS=1 $(BIN)/python -m pytest tests -q -m "$(EXTRA_MARKS)"; rc=$$?; [ $$rc -eq 5 ] || exit $$rc

demo: install
	bash examples/demo.sh

lint: install
	$(BIN)/python -m pip install -q flake8
	$(BIN)/python -m flake8 swift tests bench

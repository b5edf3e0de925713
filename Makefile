# The front door: `make run` and `make test` set up everything they need on a fresh machine.
UV := python3 -m uv
export UV_COMPILE_BYTECODE := 1
export UV_LINK_MODE := copy

.PHONY: setup run test bench bench-cluster bench-notifications cluster clean

setup: .venv/.parley-synced widget/node_modules/.parley-installed

# uv comes from PyPI; the environment is built exactly from uv.lock.
.venv/.parley-synced: pyproject.toml uv.lock
	@python3 -m uv --version >/dev/null 2>&1 || python3 -m pip install --quiet --disable-pip-version-check uv
	$(UV) sync --locked
	@touch $@

# The Socket.IO browser client the widget serves, exactly as locked in package-lock.json.
widget/node_modules/.parley-installed: widget/package.json widget/package-lock.json
	cd widget && npm ci --no-audit --no-fund
	@touch $@

run: setup
	$(UV) run --no-sync parley demo
	$(UV) run --no-sync parley serve

test: setup
	$(UV) run --no-sync pytest

# Several processes behind HAProxy on PostgreSQL and Redis (docs/deployment.md, "Several processes").
# The database is created if missing; SIGHUP to `parley cluster` restarts the processes one by one.
CLUSTER_DATABASE_URL ?= postgresql://postgres@127.0.0.1:5432/parley
CLUSTER_REDIS_URL ?= redis://127.0.0.1:6379/0
cluster: setup
	PARLEY_DATABASE_URL=$(CLUSTER_DATABASE_URL) PARLEY_REDIS_URL=$(CLUSTER_REDIS_URL) $(UV) run --no-sync parley cluster $(CLUSTER_ARGS)

clean:
	rm -rf .venv widget/node_modules

# The super group benchmark (not part of `make test`): Parley, stock python-socketio and bare
# websockets with 10,000 clients in one room; prints a table and writes bench/results/*.json.
bench: setup
	$(UV) run --no-sync python bench/run.py $(BENCH_ARGS)

# One super group on 1 process vs 2 (PostgreSQL + Redis), and a reconnect storm; not part of `make test`.
bench-cluster: setup
	$(UV) run --no-sync python bench/cluster.py $(BENCH_ARGS)

# What notifications cost a send (50 members notified vs notify off, same run) and how fast the outbox drains.
bench-notifications: setup
	$(UV) run --no-sync python bench/notifications.py $(BENCH_ARGS)

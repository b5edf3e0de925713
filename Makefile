# The front door: `make run` and `make test` set up everything they need on a fresh machine.
UV := python3 -m uv
export UV_COMPILE_BYTECODE := 1
export UV_LINK_MODE := copy

.PHONY: setup run test bench clean

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

clean:
	rm -rf .venv widget/node_modules

# The super group benchmark (not part of `make test`): Parley, stock python-socketio and bare
# websockets with 10,000 clients in one room; prints a table and writes bench/results/*.json.
bench: setup
	$(UV) run --no-sync python bench/run.py $(BENCH_ARGS)

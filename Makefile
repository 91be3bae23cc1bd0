# The single entry point. `make run` starts the console, `make test` runs the suite.
.PHONY: run test setup bench bench-gateway bench-console bench-streams check-deploy clean screenshots

run:
	@bash scripts/run.sh

test:
	@bash scripts/test.sh $(PYTEST_ARGS)

# Retake every console page's screenshot (test-artifacts/screenshots/) and the README's three.
screenshots:
	@bash scripts/screenshots.sh

setup:
	@bash scripts/bootstrap.sh test

# Both benchmarks against the fake provider: the unified service vs LiteLLM's SDK (BENCH_ARGS),
# then the /v1/ gateway vs LiteLLM's proxy, each a server process of its own (GATEWAY_ARGS).
bench:
	@bash scripts/bootstrap.sh test,bench
	.venv/bin/python benchmarks/overhead.py $(BENCH_ARGS)
	.venv/bin/python benchmarks/gateway.py $(GATEWAY_ARGS)

bench-gateway:
	@bash scripts/bootstrap.sh test,bench
	.venv/bin/python benchmarks/gateway.py $(GATEWAY_ARGS)

bench-console: setup
	.venv/bin/python benchmarks/console.py $(BENCH_ARGS)

# Concurrent streams per worker: console, API, LiteLLM's proxy and an aiohttp floor, alternating
# level by level (STREAMS_ARGS, e.g. STREAMS_ARGS="--runs 3" or "--workers 2").
bench-streams:
	@bash scripts/bootstrap.sh test,bench
	.venv/bin/python benchmarks/streams.py $(STREAMS_ARGS) $(BENCH_ARGS)

check-deploy: setup
	DJANGO_SETTINGS_MODULE=standalone.settings.production \
	DJANGO_SECRET_KEY=$${DJANGO_SECRET_KEY:-$$(.venv/bin/python -c 'import secrets; print(secrets.token_urlsafe(50))')} \
	DJANGO_ALLOWED_HOSTS=$${DJANGO_ALLOWED_HOSTS:-aiadmin.example.com} \
	AIADMIN_ENCRYPTION_KEYS=$${AIADMIN_ENCRYPTION_KEYS:-$$(.venv/bin/python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())')} \
	REDIS_URL=$${REDIS_URL:-redis://127.0.0.1:6379/0} \
	.venv/bin/python manage.py check --deploy --fail-level WARNING

clean:
	rm -rf .venv db.sqlite3 staticfiles media .pytest_cache

# cnn-notebooks: the three commands a student or teacher needs.
#   make setup   install everything into this folder (idempotent, fast when done)
#   make lab     start JupyterLab on notebooks/ with the rust-cnn kernel
#   make test    cargo tests, fmt and clippy, and every notebook executed headless
.PHONY: setup lab test

setup:
	@bash scripts/setup.sh

lab: setup
	.venv/bin/python -m jupyter lab --notebook-dir=notebooks \
		--MappingKernelManager.default_kernel_name=rust-cnn

test: setup
	@bash scripts/test.sh

# cnn-notebooks: the commands a student or teacher needs.
#   make setup        install everything into this folder (idempotent, seconds when done)
#   make lab          start JupyterLab on notebooks/ with the rust-cnn kernel
#                     (options for jupyter lab: make lab ARGS="--no-browser --port 8899";
#                     a teacher's solutions: make lab NOTEBOOKS=solutions)
#   make tensorboard  TensorBoard on runs/ (options: make tensorboard ARGS="--port 6007")
#   make test         cargo tests, fmt and clippy, every notebook headless, make e2e and
#                     make test-cluster
#   make e2e          JupyterLab driven in headless Chromium, as a student uses it
#   make test-cluster a sweep run as a Slurm job array on a one-node Slurm started here
# For teachers:
#   make notebooks    write the students' notebooks/ from the solutions/ (the source)
#   make handout      the course without its solutions, as target/handout/cnn-notebooks.tar.gz
#   make grade DIR=d  run the students' notebooks in folder d, one table of their exercises
.PHONY: setup lab tensorboard test e2e test-cluster notebooks handout grade
ARGS ?=
NOTEBOOKS ?= notebooks

setup:
	@bash scripts/setup.sh

lab: setup
	@bash scripts/lab.sh "$(NOTEBOOKS)" $(ARGS)

tensorboard: setup
	.venv/bin/tensorboard --logdir "$${CNN_RUNS_DIR:-runs}" $(ARGS)

test: setup
	@bash scripts/test.sh

e2e: setup
	@.venv/bin/python scripts/e2e.py

test-cluster: setup
	@bash scripts/cluster-test.sh

notebooks: setup
	@.venv/bin/python scripts/exercises.py make

handout:
	@bash scripts/handout.sh

grade: setup
	@test -n "$(DIR)" || { echo "make grade needs the folder of notebooks: make grade DIR=submissions/"; exit 2; }
	@.venv/bin/python scripts/grade.py "$(DIR)" $(ARGS)

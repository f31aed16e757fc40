"""Running an evaluation: model backends, runner, response cache, run store, statistics."""

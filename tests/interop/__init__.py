"""Interoperability tests: our model directories in real MLflow, and MLflow's in our loader."""

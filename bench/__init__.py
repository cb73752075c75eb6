"""Benchmarks, each run as a script from the repository root (``.venv/bin/python bench/<name>.py``).

A package so that ``bench/keywords.py`` is the module ``bench.keywords`` to mypy, not a second ``keywords``."""

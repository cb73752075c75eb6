"""Algorithms («Алгоритмы»): designers' Python code, compiled by RestrictedPython and run in worker processes.

Importing this package starts nothing; the worker pool starts on the first run (see :mod:`algorithms.runner`).
"""

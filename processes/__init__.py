"""The business-process core: persons, scenarios, processes, tasks and their domain events."""

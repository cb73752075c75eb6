"""Signal: the service around the core — storage, settings, wiring, entry points."""

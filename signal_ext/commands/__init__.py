"""Click command groups of ``signal-ext``; ``cli.py`` assembles them."""

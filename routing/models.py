"""Models arrive with the issue that needs them."""

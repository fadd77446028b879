"""Built-in optimizees."""

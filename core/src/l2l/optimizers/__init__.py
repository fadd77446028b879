"""Built-in optimizers, one module each."""

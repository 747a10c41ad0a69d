"""Pure rules of the product: no I/O, no framework, time passed in as a parameter."""

"""curvelint rules: one module per rule."""

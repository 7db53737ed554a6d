"""The compiler passes: Graph -> lowered layers -> schedule -> in-place -> memory plan -> C sources."""

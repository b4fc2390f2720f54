"""events and counters from the kernel -> logs (and, later, metrics)."""

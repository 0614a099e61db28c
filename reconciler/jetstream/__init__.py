"""JetStream: observing, planning and applying streams and consumers."""

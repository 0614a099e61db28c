"""`jsctl check`: health of the declared streams and consumers (check -> evaluate -> render)."""

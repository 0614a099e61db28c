"""Local servers for development and tests: embedded nats-server and Postgres (servers.py), the state of
`jsctl dev` (env.py), one-line descriptions of the servers for `jsctl ping` (probe.py)."""

"""The event console: the stage's stream, records, consumers, dead letters, lake, replay and
publishing in a browser, served on localhost (`event-stream console`, and `local up`).

Each view reads through the same parts as the CLI (`readers/`, `actions/`); `app.py` turns
their data into a page for a browser and into JSON for `Accept: application/json`.
"""

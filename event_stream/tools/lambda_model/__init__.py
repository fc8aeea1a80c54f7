"""What Lambda itself is, as the tools need it: the Kinesis event and its answer, the filter
language, an event source mapping's settings, a function's code and configuration, and the
workers that run it (with their Python and Node.js bootstraps). Imports nothing of the local
AWS or of the commands."""

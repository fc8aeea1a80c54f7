"""What the tools read from a stage, on AWS or on the local AWS: its stack and functions
(`deployed`), its shards (`shard_reader`, the one way to read a stream), its lake, its dead
letters, and files of events. Imports the Lambda model, nothing of the local AWS or the
commands."""

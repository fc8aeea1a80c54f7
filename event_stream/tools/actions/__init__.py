"""What the commands do to a stage, on AWS or on the local AWS: publish a file of events,
replay the lake into one function, redrive dead letters. Each takes the function invoker it
is given; it imports the readers and the Lambda model, nothing of the local AWS or the
commands."""

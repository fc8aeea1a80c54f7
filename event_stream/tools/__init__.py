"""The developer tools: the CLI (`python -m event_stream`), the embedded local AWS and the
runners that execute deployed Lambda code here. They may import the library; the library
never imports them."""

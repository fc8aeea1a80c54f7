"""The Lambda code, importable on the developer side as `event_stream.lambda_src`.

Inside Lambda these files are top-level modules (`import event_envelope`); this file makes
the folder a package for the CDK side, the CLI and the installed library (through the link
`event_stream/lambda_src`). It never ships in an asset.
"""

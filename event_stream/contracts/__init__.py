"""Event contracts: a JSON Schema per event type and version, kept in the app's repository.

`files.py` reads a contracts folder (`<folder>/<type>/v<N>.json`) and refuses a bad file in
one line; `compatibility.py` checks each type's versions under Confluent's compatibility
modes; `compiler.py` turns the contracts into one plain-Python validator module (generated
code, stdlib only) for the Lambda assets. Reading and compatibility are stdlib only; checking
a schema against its metaschema and compiling it need the `contracts` extra (jsonschema and
fastjsonschema), imported only when an app has contracts.
"""

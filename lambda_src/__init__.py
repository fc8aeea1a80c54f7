"""The Lambda code, importable on the developer side as `event_stream.lambda_src`.

Inside Lambda these files are top-level modules (`import event_envelope`); on the developer
side the folder is the package `event_stream.lambda_src` (pyproject.toml maps the name to
this folder, for the installed library and the editable checkout alike), and the modules
import each other relatively there. It never ships in an asset.
"""

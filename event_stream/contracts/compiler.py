"""Contracts compiled into plain-Python validators: generated code, stdlib only, shipped in a
Lambda asset as the package `event_contracts_generated/` (one module per type and version,
imported on first use, and an index). `lambda_src/event_contracts.py` runs them.

The code is fastjsonschema's (`compile_to_code`, on the developer side only: Powertools chose
it for its validation utility because it is fast and small), made free of it: its exception
class is defined in the module, and its message for missing required fields, which the
compact mode leaves empty, names them again.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from pathlib import Path

from event_stream.contracts.files import Contract, ContractError

PACKAGE = "event_contracts_generated"
EXCEPTION = '''

class JsonSchemaValueException(ValueError):
    """A value that breaks the contract; the message starts with its path (data.a.b)."""


JsonSchemaValuesException = JsonSchemaValueException
'''
IMPORT = "from fastjsonschema import JsonSchemaValueException, JsonSchemaValuesException\n"
MISSING = re.compile(
    r"(?P<var>\w+__missing_keys) = (?P<set>.*)\n(?P<indent>\s*)if (?P=var):\n"
    r'(?P<raise>\s*raise JsonSchemaValueException\(.*?)" must contain "\)'
)


def module_name(contract: Contract) -> str:
    """The generated module of one contract: `thing_created_v2`."""
    return re.sub(r"[^A-Za-z0-9]", "_", contract.type) + f"_v{contract.version}"


def compile_contract(contract: Contract) -> str:
    """The validator module of one contract: `validate(body)` raises
    `JsonSchemaValueException` at the first violation."""
    try:
        import fastjsonschema
    except ImportError:
        raise ContractError(
            "contracts need the contracts extra: pip install 'cncb-event-stream[contracts]'"
        ) from None
    try:
        code = fastjsonschema.compile_to_code(contract.schema, detailed_exceptions=False)
    except fastjsonschema.JsonSchemaDefinitionException as error:
        raise ContractError(f"{contract.path}: cannot be compiled: {error}") from None
    if IMPORT not in code:
        raise ContractError(f"{contract.path}: unexpected code from fastjsonschema (its version?)")
    code = code.replace(IMPORT, EXCEPTION)
    code = MISSING.sub(
        lambda m: (
            f"{m['var']} = {m['set']}\n{m['indent']}if {m['var']}:\n{m['raise']}"
            f'" must contain " + str(sorted({m["var"]})) + " properties")'
        ),
        code,
    )
    header = f'"""Generated from {contract.type}/v{contract.version}.json: do not edit."""\n'
    return header + code


def check_compiles(contracts: Mapping[str, list[Contract]]) -> None:
    """Compile every contract once, so a schema the compiler refuses stops the check with
    its one line (not later, inside the asset's bundling)."""
    for versions in contracts.values():
        for contract in versions:
            compile_contract(contract)


def write_package(contracts: Mapping[str, list[Contract]], types: Iterable[str], out: Path) -> None:
    """The package `event_contracts_generated/` under `out`, holding the contracts of `types`
    (every version, so an event tagged with an older one is checked against it)."""
    package = out / PACKAGE
    package.mkdir(parents=True, exist_ok=True)
    index: dict[str, dict[int, str]] = {}
    for event_type in sorted(set(types)):
        for contract in contracts.get(event_type, []):
            name = module_name(contract)
            (package / f"{name}.py").write_text(compile_contract(contract))
            index.setdefault(event_type, {})[contract.version] = name
    (package / "__init__.py").write_text(
        '"""The event contracts shipped with this function (generated: do not edit).\n\n'
        'MODULES: type -> version -> module of this package."""\n\n'
        f"MODULES = {index!r}\n"
    )

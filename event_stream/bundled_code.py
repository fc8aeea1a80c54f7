"""Lambda code assembled at synth without Docker: a folder (the user's, or none), runtime
files from `lambda_src/`, and the event contracts compiled for the function.

CDK's local bundling (`ILocalBundling`) writes the files into the asset's output folder; the
asset is hashed on that output, so a new runtime file or a changed contract redeploys the
function.
"""

from __future__ import annotations

import shutil
from collections.abc import Collection, Mapping
from pathlib import Path
from typing import Any

import jsii
from aws_cdk import AssetHashType, BundlingOptions, DockerImage, ILocalBundling
from aws_cdk import aws_lambda as lambda_

from event_stream.contracts.compiler import write_package
from event_stream.contracts.files import Contract
from event_stream.runtime import CONTRACT_RUNTIME_FILES, LAMBDA_SRC


@jsii.implements(ILocalBundling)
class _Bundle:
    def __init__(
        self,
        code_dir: Path | None,
        runtime_files: Collection[str],
        contracts: Mapping[str, list[Contract]],
        types: Collection[str],
    ) -> None:
        self.code_dir = code_dir
        self.runtime_files = runtime_files
        self.contracts = contracts
        self.types = types

    def try_bundle(self, output_dir: str, options: Any) -> bool:
        out = Path(output_dir)
        if self.code_dir is not None:
            shutil.copytree(
                self.code_dir,
                out,
                dirs_exist_ok=True,
                ignore=shutil.ignore_patterns("__pycache__", "*.pyc"),
            )
        files = [*self.runtime_files, *(CONTRACT_RUNTIME_FILES if self.contracts else ())]
        for name in files:
            shutil.copy(LAMBDA_SRC / name, out / name)
        if self.contracts:
            write_package(self.contracts, self.types, out)
        return True


def bundled_code(
    *,
    code_dir: Path | None,
    runtime_files: Collection[str],
    contracts: Mapping[str, list[Contract]] | None = None,
    types: Collection[str] = (),
) -> lambda_.Code:
    """The asset: `code_dir`'s files (if any), `runtime_files` of `lambda_src/`, and, with
    `contracts`, `event_contracts.py` and the validators of `types` (every version)."""
    return lambda_.Code.from_asset(
        str(code_dir or LAMBDA_SRC),
        asset_hash_type=AssetHashType.OUTPUT,
        bundling=BundlingOptions(
            image=DockerImage.from_registry("local-bundling-only"),
            # jsii hands try_bundle its options positionally, not as the protocol's keywords.
            local=_Bundle(code_dir, runtime_files, contracts or {}, types),  # type: ignore[arg-type]
        ),
    )

"""A deployed function as the workers run it: its configuration and the exact code zip."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class DeployedFunction:
    """A function's configuration and the exact code zip it runs."""

    name: str
    handler: str
    environment: dict[str, str]
    log_group: str
    log_level: str
    timeout: int
    code_zip: bytes
    runtime: str = "python3.14"
    arn: str = ""
    memory_size: int = 128
    log_format: str = "JSON"
    role: str = ""
    system_log_level: str = "INFO"

    @classmethod
    def from_configuration(cls, config: dict[str, Any], code_zip: bytes) -> DeployedFunction:
        """The function as `GetFunctionConfiguration` describes it, with its code."""
        logging_config = config.get("LoggingConfig") or {}
        name = config["FunctionName"]
        return cls(
            name=name,
            handler=config["Handler"],
            environment=(config.get("Environment") or {}).get("Variables") or {},
            log_group=logging_config.get("LogGroup") or f"/aws/lambda/{name}",
            log_level=logging_config.get("ApplicationLogLevel") or "INFO",
            timeout=int(config.get("Timeout", 3)),
            code_zip=code_zip,
            runtime=config.get("Runtime") or "",
            arn=config.get("FunctionArn", ""),
            memory_size=int(config.get("MemorySize", 128)),
            log_format=logging_config.get("LogFormat") or "Text",
            role=config.get("Role", ""),
            system_log_level=logging_config.get("SystemLogLevel") or "INFO",
        )

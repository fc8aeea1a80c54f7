"""The embedded local AWS: the launcher (`launcher`), moto_server with the project's moto
fixes (`server`, `moto_fixes`), the event source poller and the mapping runner that deliver
stream records to deployed consumers (`event_source_poller`, `mapping_runner`,
`event_filter`, `kinesis_event`), and the runners that execute a deployed function's code
here (`runner`, and `bootstrap`, the child process's side)."""

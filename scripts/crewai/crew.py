"""A small CrewAI crew whose telemetry goes to AUREN's ingest: two agents, a tool each, a task each.

Two ways in, chosen with --mode:

* ``otlp``: the OpenInference instrumentations from PyPI (``openinference-instrumentation-crewai``
  for the crew, its agents' tasks and tools; ``openinference-instrumentation-openai`` for the LLM
  calls, with ``llm.token_count.*``) export spans over OTLP/HTTP (protobuf) to ``POST /v1/traces``.
  The batch span processor exports every 512 spans or at shutdown (its timer is set to 10 min),
  so a small crew's spans leave together and the ingest finds each LLM and tool span's agent span
  in the same request (see gateway/ingest/otlp-map.ts); with the SDK's 5 s timer, an LLM span
  exported before its agent span ended would be attributed to ``service.name``.
* ``events``: a CrewAI event-bus listener (``crewai.events.BaseEventListener``) turns agent
  executions, LLM calls, tool usages and the handoffs from one agent to the next into AgentEvents (CONTRACTS.md section 2) and posts them to
  ``POST /v1/events``, for users without OpenTelemetry.

The LLM is OpenAI-compatible at --llm-base-url (a local stand-in in tests: scripts/crewai/fake-llm.ts).
Run with the cached venv (scripts/crewai/venv.sh):

    "$(bash scripts/crewai/venv.sh)/bin/python" scripts/crewai/crew.py --mode otlp \\
        --ingest http://127.0.0.1:8080 --api-key KEY --llm-base-url http://127.0.0.1:9999/v1

Prints one JSON line at the end: the run id (the events' trace id in ``events`` mode) and the
number of events posted (``events`` mode).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
from typing import Any

os.environ.setdefault("CREWAI_DISABLE_TELEMETRY", "true")
os.environ.setdefault("CREWAI_TRACING_ENABLED", "false")
os.environ.setdefault("CREWAI_STORAGE_DIR", os.path.join(os.environ.get("TMPDIR", "/tmp"), "auren-crewai"))


def build_crew(llm_base_url: str, llm_api_key: str, name: str) -> Any:
    from crewai import LLM, Agent, Crew, Process, Task
    from crewai.tools import tool

    @tool("price_lookup")
    def price_lookup(item: str) -> str:
        """Looks up the price of an item in USD."""
        return f"{item}: 4.20 USD"

    @tool("stock_check")
    def stock_check(item: str) -> str:
        """Says how many units of an item are in stock."""
        return f"{item}: 17 units"

    llm = LLM(model="openai/gpt-4o", base_url=llm_base_url, api_key=llm_api_key, max_retries=0)
    researcher = Agent(role="Price Researcher", goal="Find prices", backstory="Knows every shop.", tools=[price_lookup], llm=llm, allow_delegation=False, max_iter=3, verbose=False)
    writer = Agent(role="Stock Writer", goal="Report stock", backstory="Writes short notes.", tools=[stock_check], llm=llm, allow_delegation=False, max_iter=3, verbose=False)
    tasks = [
        Task(description="Find the price of coffee with your tool.", expected_output="One line with the price.", agent=researcher, name="price"),
        Task(description="Check the coffee stock with your tool and write one line.", expected_output="One line with the stock.", agent=writer, name="stock"),
    ]
    return Crew(name=name, agents=[researcher, writer], tasks=tasks, process=Process.sequential, verbose=False)


def setup_otlp(ingest: str, api_key: str, run_id: str) -> Any:
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    from openinference.instrumentation.crewai import CrewAIInstrumentor
    from openinference.instrumentation.openai import OpenAIInstrumentor

    provider = TracerProvider(resource=Resource.create({"service.name": "auren-crewai-example", "auren.run_id": run_id}))
    exporter = OTLPSpanExporter(endpoint=f"{ingest}/v1/traces", headers={"x-api-key": api_key})
    provider.add_span_processor(BatchSpanProcessor(exporter, schedule_delay_millis=600_000, max_export_batch_size=512))
    CrewAIInstrumentor().instrument(tracer_provider=provider)
    OpenAIInstrumentor().instrument(tracer_provider=provider)
    return provider


def micros(ts: Any) -> int:
    return int(ts.timestamp() * 1_000_000)


class IngestPoster:
    """Posts AgentEvent batches to POST /v1/events, retrying 429/503 after Retry-After (at most 8 tries)."""

    def __init__(self, ingest: str, api_key: str) -> None:
        self.url = f"{ingest}/v1/events"
        self.api_key = api_key
        self.posted = 0

    def post(self, events: list[dict[str, Any]]) -> None:
        body = json.dumps({"events": events}).encode()
        for attempt in range(8):
            req = urllib.request.Request(self.url, data=body, method="POST", headers={"content-type": "application/json", "x-api-key": self.api_key})
            try:
                with urllib.request.urlopen(req, timeout=30) as res:
                    answer = json.loads(res.read() or b"{}")
                    if answer.get("rejected"):
                        raise RuntimeError(f"ingest refused events: {answer}")
                    self.posted += len(events)
                    return
            except urllib.error.HTTPError as err:
                if err.code in (429, 503) and attempt < 7:
                    time.sleep(float(err.headers.get("retry-after") or 1))
                    continue
                raise RuntimeError(f"ingest answered {err.code}: {err.read().decode(errors='replace')}") from err
        raise RuntimeError("ingest kept answering 429/503")


def make_listener(poster: IngestPoster, run_id: str) -> Any:
    from crewai.events import (
        AgentExecutionCompletedEvent,
        AgentExecutionErrorEvent,
        AgentExecutionStartedEvent,
        BaseEventListener,
        CrewKickoffCompletedEvent,
        LLMCallCompletedEvent,
        LLMCallFailedEvent,
        LLMCallStartedEvent,
        ToolUsageErrorEvent,
        ToolUsageFinishedEvent,
    )

    class AurenEventListener(BaseEventListener):
        """CrewAI event bus → AgentEvents (CONTRACTS.md section 2) → POST /v1/events."""

        def __init__(self) -> None:
            self.lock = threading.Lock()
            self.buffer: list[dict[str, Any]] = []
            self.executions: dict[str, tuple[str, int]] = {}  # agent id → (started event id, start µs)
            self.llm_started: dict[str, int] = {}  # call id → start µs
            self.last_role: str | None = None  # the agent that ran before (a sequential crew hands over to the next)
            super().__init__()

        def event(self, ev: Any, event_type: str, payload: dict[str, Any], parent: str | None = None) -> dict[str, Any]:
            role = ev.agent_role or "unknown"
            return {
                "event_id": ev.event_id, "trace_id": run_id, "session_id": None, "parent_event_id": parent,
                "timestamp": micros(ev.timestamp), "event_type": event_type,
                "source_agent": {"id": role, "role": role, "domain": None}, "target_agent": None, "user_id": None,
                "source": "crewai", "payload": payload, "performance": None,
                "attributes": {k: str(v) for k, v in {"crewai.event_type": ev.type, "crewai.task_id": ev.task_id, "crewai.task_name": ev.task_name}.items() if v is not None},
            }

        def add(self, item: dict[str, Any]) -> None:
            with self.lock:
                self.buffer.append(item)

        def flush(self) -> None:
            with self.lock:
                batch, self.buffer = self.buffer, []
            for i in range(0, len(batch), 100):
                poster.post(batch[i : i + 100])

        def parent_of(self, ev: Any) -> str | None:
            started = self.executions.get(str(ev.agent_id))
            return started[0] if started else None

        def setup_listeners(self, bus: Any) -> None:
            @bus.on(AgentExecutionStartedEvent)
            def _agent_started(_source: Any, ev: AgentExecutionStartedEvent) -> None:
                ev.agent_role, ev.agent_id = ev.agent.role, str(ev.agent.id)
                tools = [t.name for t in (ev.tools or [])]
                self.executions[str(ev.agent.id)] = (ev.event_id, micros(ev.timestamp))
                if self.last_role is not None and self.last_role != ev.agent.role:
                    handoff = self.event(ev, "agent_handoff", {"from_agent": self.last_role, "to_agent": ev.agent.role, "topic": ev.task.name if ev.task else None, "reason": "sequential"})
                    handoff.update(event_id=str(uuid.uuid4()), source_agent={"id": self.last_role, "role": self.last_role, "domain": None}, target_agent={"id": ev.agent.role, "role": ev.agent.role, "domain": None})
                    self.add(handoff)
                self.last_role = ev.agent.role
                self.add(self.event(ev, "agent_execution_started", {"task_id": str(ev.task.id) if ev.task else None, "execution_mode": "sequential", "tools_available": tools, "latency_ms": None, "success": None, "error_type": None, "output_length": None}))

            def completed(ev: Any, success: bool, error: str | None, output: str | None) -> None:
                ev.agent_role, ev.agent_id = ev.agent.role, str(ev.agent.id)
                started = self.executions.get(str(ev.agent.id))
                latency = (micros(ev.timestamp) - started[1]) / 1000 if started else None
                self.add(self.event(ev, "agent_execution_completed", {"task_id": str(ev.task.id) if ev.task else None, "execution_mode": "sequential", "tools_available": [], "latency_ms": latency, "success": success, "error_type": error, "output_length": len(output) if output is not None else None}, started[0] if started else None))

            @bus.on(AgentExecutionCompletedEvent)
            def _agent_completed(_source: Any, ev: AgentExecutionCompletedEvent) -> None:
                completed(ev, True, None, ev.output)

            @bus.on(AgentExecutionErrorEvent)
            def _agent_error(_source: Any, ev: AgentExecutionErrorEvent) -> None:
                completed(ev, False, "agent_error", None)

            @bus.on(LLMCallStartedEvent)
            def _llm_started(_source: Any, ev: LLMCallStartedEvent) -> None:
                self.llm_started[ev.call_id] = micros(ev.timestamp)

            def llm_done(ev: Any, success: bool, error: str | None) -> None:
                usage = (getattr(ev, "usage", None) or {}) if success else {}
                start = self.llm_started.pop(ev.call_id, None)
                self.add(self.event(ev, "llm_call_completed", {
                    "model": (ev.model or "unknown").split("/")[-1], "provider": "openai",
                    "input_tokens": int(usage.get("prompt_tokens") or 0), "output_tokens": int(usage.get("completion_tokens") or 0),
                    "cached_input_tokens": usage.get("cached_prompt_tokens"), "reasoning_tokens": None, "reported_cost_usd": None,
                    "latency_ms": (micros(ev.timestamp) - start) / 1000 if start is not None else 0.0,
                    "success": success, "error_type": error, "purpose": str(getattr(getattr(ev, "call_type", None), "value", "")) or None,
                }, self.parent_of(ev)))

            @bus.on(LLMCallCompletedEvent)
            def _llm_completed(_source: Any, ev: LLMCallCompletedEvent) -> None:
                llm_done(ev, True, None)

            @bus.on(LLMCallFailedEvent)
            def _llm_failed(_source: Any, ev: LLMCallFailedEvent) -> None:
                llm_done(ev, False, "llm_error")

            def tool_done(ev: Any, success: bool, error: str | None, output: Any, ms: float | None) -> None:
                self.add(self.event(ev, "tool_usage_completed", {
                    "tool_name": ev.tool_name, "input_size_bytes": len(json.dumps(ev.tool_args, default=str).encode()),
                    "output_size_bytes": len(str(output).encode()) if output is not None else None,
                    "execution_time_ms": ms, "success": success, "error_type": error,
                }, self.parent_of(ev)))

            @bus.on(ToolUsageFinishedEvent)
            def _tool_finished(_source: Any, ev: ToolUsageFinishedEvent) -> None:
                tool_done(ev, True, None, ev.output, (ev.finished_at - ev.started_at).total_seconds() * 1000)

            @bus.on(ToolUsageErrorEvent)
            def _tool_error(_source: Any, ev: ToolUsageErrorEvent) -> None:
                tool_done(ev, False, "tool_error", None, None)

            @bus.on(CrewKickoffCompletedEvent)
            def _crew_done(_source: Any, _ev: CrewKickoffCompletedEvent) -> None:
                self.flush()

    return AurenEventListener()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--mode", choices=["otlp", "events"], required=True)
    ap.add_argument("--ingest", required=True, help="gateway base URL, e.g. http://127.0.0.1:8080")
    ap.add_argument("--api-key", default=os.environ.get("AUREN_INGEST_API_KEY", ""))
    ap.add_argument("--llm-base-url", required=True, help="OpenAI-compatible base URL, e.g. http://127.0.0.1:9999/v1")
    ap.add_argument("--llm-api-key", default=os.environ.get("OPENAI_API_KEY", "sk-local"))
    ap.add_argument("--run-id", default=str(uuid.uuid4()))
    args = ap.parse_args()

    provider = setup_otlp(args.ingest, args.api_key, args.run_id) if args.mode == "otlp" else None
    poster = IngestPoster(args.ingest, args.api_key)
    listener = make_listener(poster, args.run_id) if args.mode == "events" else None
    crew = build_crew(args.llm_base_url, args.llm_api_key, f"auren-example-{args.run_id[:8]}")
    result = crew.kickoff()

    from crewai.events import crewai_event_bus

    crewai_event_bus.flush()
    if listener is not None:
        listener.flush()
    if provider is not None:
        provider.force_flush()
        provider.shutdown()
    print(json.dumps({"run_id": args.run_id, "mode": args.mode, "events_posted": poster.posted if listener is not None else None, "result": str(result)[:200]}))
    return 0


if __name__ == "__main__":
    sys.exit(main())

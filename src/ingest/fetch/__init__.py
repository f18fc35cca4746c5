"""HTTP fetching for feeds and article pages: limits, politeness, SSRF policy, robots.txt."""

from ingest.fetch.client import Fetcher
from ingest.fetch.hosts import HostGate, HostGateProtocol

__all__ = ["Fetcher", "HostGate", "HostGateProtocol"]

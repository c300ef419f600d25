"""A local X (Twitter) API v2 simulator: recent search and users-by-username over real HTTP.

The demo's default backend and every test's double. It keeps the real contract (paths, parameters,
JSON shapes, string ids, `next_token` paging, `x-rate-limit-*` headers, 400/401/429/503 bodies, the
7-day window) over a synthetic or a recorded corpus, and can inject faults on demand.
"""

from twitter_assets.simulator.app import RequestRecord, SimulatorServer
from twitter_assets.simulator.faults import FaultPlan
from twitter_assets.simulator.recorded import FileCorpus
from twitter_assets.simulator.records import Corpus, Tweet, User
from twitter_assets.simulator.synthetic import SyntheticCorpus

__all__ = ["Corpus", "FaultPlan", "FileCorpus", "RequestRecord", "SimulatorServer", "SyntheticCorpus", "Tweet", "User"]

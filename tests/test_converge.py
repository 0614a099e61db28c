"""Replica-set convergence read from STREAM.INFO/CONSUMER.INFO replies (pure; the waiting itself
is exercised on a real cluster in tests/cluster/)."""

from reconciler.jetstream.converge import consumer_replicas, replica_set, stream_replicas


def info(leader, *replicas):
    return {"cluster": {"name": "c", "leader": leader, "replicas": list(replicas)}}


def test_r3_with_all_peers_current_has_converged():
    state = replica_set(info("n1", {"name": "n2", "current": True}, {"name": "n3", "current": True}), 3)
    assert state.converged
    assert state.describe() == "leader n1; 3/3 peers: n2 current, n3 current"


def test_a_lagging_or_offline_peer_is_not_converged():
    lagging = replica_set(info("n1", {"name": "n2", "current": True}, {"name": "n3", "current": False, "lag": 7,
                                                                                "active": 10**8}), 3)
    offline = replica_set(info("n1", {"name": "n2", "current": True}, {"name": "n3", "current": True,
                                                                         "offline": True}), 3)
    assert not lagging.converged and "n3 catching up (lag 7)" in lagging.describe()
    assert not offline.converged and "n3 offline" in offline.describe()


def test_unreachable_peers_can_be_done_without_while_a_quorum_is_current():
    silent = {"name": "n3", "current": True, "active": 10 * 10**9}  # killed: its last contact ages
    never = {"name": "n3", "current": False, "active": 0}  # created while n3 was down
    for dead in (silent, never):
        state = replica_set(info("n1", {"name": "n2", "current": True, "active": 10**8}, dead), 3)
        assert not state.converged and state.without_unreachable() == ("n3",)
    lagging = replica_set(info("n1", {"name": "n2", "current": True}, {"name": "n3", "current": False,
                                                                         "active": 10**8, "lag": 3}), 3)
    assert lagging.without_unreachable() is None  # alive and catching up: wait for it
    no_quorum = replica_set(info("n1", never, {**never, "name": "n2"}), 3)
    assert no_quorum.without_unreachable() is None


def test_no_leader_during_an_election_is_not_converged():
    state = replica_set(info(None, {"name": "n1", "current": True}, {"name": "n3", "current": False}), 3)
    assert not state.converged and state.describe().startswith("no leader yet; 2/3 peers")


def test_a_move_in_progress_has_more_peers_than_wanted():
    # 3 -> 1 with new placement: the old peers stay in the group until the move is done.
    state = replica_set(info("n1", {"name": "n3", "current": True}), 1)
    assert not state.converged
    assert replica_set(info("n3"), 1).converged


def test_single_server_reports_only_a_leader_or_nothing():
    assert replica_set({"cluster": {"leader": "dev"}}, 1).converged  # a stream
    assert replica_set({"config": {}}, 1).converged  # a consumer: no cluster object at all
    assert not replica_set({"cluster": {}}, 1).converged  # clustered, no leader known: ask again


def test_expected_replicas_follow_the_servers_rules():
    assert stream_replicas({}) == 1 and stream_replicas({"num_replicas": 0}) == 1
    assert stream_replicas({"num_replicas": 3}) == 3
    assert consumer_replicas({"num_replicas": 0}, {"num_replicas": 3}) == 3
    assert consumer_replicas({"num_replicas": 1}, {"num_replicas": 3}) == 1

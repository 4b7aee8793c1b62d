"""Shard specs: parsing, the Indexed Job environment, and stable assignment."""
import pytest

from services.evaluation.shards import COUNT_ENV, INDEX_ENV, Shard, ShardError, check_partition


def test_parse_and_str_round_trip():
    shard = Shard.parse("2/5")
    assert (shard.index, shard.count) == (2, 5)
    assert str(shard) == "2/5"


@pytest.mark.parametrize("text", ["", "3", "a/b", "5/5", "-1/3", "0/0", "1/-2"])
def test_bad_specs_are_refused(text):
    with pytest.raises(ShardError):
        Shard.parse(text)


def test_from_env_reads_the_indexed_job_variables():
    assert Shard.from_env({}) is None
    assert Shard.from_env({INDEX_ENV: "3", COUNT_ENV: "4"}) == Shard(3, 4)
    with pytest.raises(ShardError):
        Shard.from_env({INDEX_ENV: "3"})


def test_shards_partition_the_samples_stably():
    items = list(range(23))
    shards = [Shard(i, 4) for i in range(4)]
    chosen = [shard.select(items) for shard in shards]
    assert sorted(x for part in chosen for x in part) == items
    assert chosen[1] == [1, 5, 9, 13, 17, 21] == list(shards[1].indices(23))
    assert all(shards[i].owns(x) for i, part in enumerate(chosen) for x in part)


def test_check_partition_names_overlaps_and_gaps():
    check_partition([Shard(1, 3), Shard(0, 3), Shard(2, 3)])
    with pytest.raises(ShardError, match="overlapping shards 1/3.*missing shards 2/3"):
        check_partition([Shard(0, 3), Shard(1, 3), Shard(1, 3)])
    with pytest.raises(ShardError, match="different shard counts"):
        check_partition([Shard(0, 2), Shard(0, 3)])

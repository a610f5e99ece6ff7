"""The one loader: relay and consumers read TOML, env and secret files by the same rules."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Annotated, Literal

import pytest
from msgspec import Meta

from consumers.config import WorkerKind
from consumers.config import load_settings as load_worker
from relay.config import ConfigError, Secret, load_settings
from relay.config.loader import Section, load_section

INBOUND = WorkerKind.INBOUND


def _toml(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "deploy.toml"
    path.write_text(text, encoding="utf-8")
    return path


def _secret_file(tmp_path: Path, text: str) -> str:
    path = tmp_path / "secret"
    path.write_text(text, encoding="utf-8")
    return str(path)


@dataclasses.dataclass(frozen=True, slots=True)
class Sample:
    pipeline: Literal["batched", "public"] = "batched"
    limit: Annotated[int, Meta(ge=1, le=10)] = 5


SAMPLE = Section("sample", Sample, "APP_SAMPLE")


def test_a_literal_field_takes_its_choices_and_refuses_others() -> None:
    """Literal["batched", "public"] loads from env; another word names key, variable, choices."""
    assert load_section(SAMPLE, {}, {"APP_SAMPLE_PIPELINE": "public"}).pipeline == "public"
    with pytest.raises(ConfigError, match=r"sample\.pipeline \(APP_SAMPLE_PIPELINE\).*batched"):
        load_section(SAMPLE, {"pipeline": "fast"}, {})


def test_bounds_hold_for_file_and_environment_alike() -> None:
    """A `Meta(ge=1, le=10)` bound refuses 11 from TOML and 0 from the environment."""
    with pytest.raises(ConfigError, match="<= 10"):
        load_section(SAMPLE, {"limit": 11}, {})
    with pytest.raises(ConfigError, match=">= 1"):
        load_section(SAMPLE, {}, {"APP_SAMPLE_LIMIT": "0"})


def test_the_consumers_environment_wins_over_their_table(tmp_path: Path) -> None:
    """CONSUMER_PREFETCH beats [consumers] prefetch; the table beats the default."""
    path = _toml(tmp_path, "[consumers]\nprefetch = 64\nbatch_size = 32\n")
    s = load_worker(INBOUND, {"CONSUMER_PREFETCH": "128"}, path)
    assert (s.prefetch, s.batch_size) == (128, 32)


def test_a_kind_table_overrides_the_common_one(tmp_path: Path) -> None:
    """[consumers.inbound] applies to the inbound worker only."""
    path = _toml(tmp_path, '[consumers]\nprefetch = 64\n[consumers.inbound]\nqueue = "mo"\n')
    inbound = load_worker(INBOUND, {}, path)
    reports = load_worker(WorkerKind.DELIVERY_REPORTS, {}, path)
    assert (inbound.queue, inbound.prefetch) == ("mo", 64)
    assert (reports.queue, reports.prefetch) == ("sinch.consumers.delivery_reports", 64)


def test_the_relay_and_the_consumers_share_one_file(tmp_path: Path) -> None:
    """The relay accepts the [consumers] table; the consumers accept the relay's tables."""
    path = _toml(tmp_path, "[amqp]\nconfirm_timeout = 1.5\n[consumers]\nprefetch = 8\n")
    assert load_settings(path, {}).amqp.confirm_timeout == 1.5
    assert load_worker(INBOUND, {}, path).prefetch == 8


def test_an_unknown_consumer_key_is_refused(tmp_path: Path) -> None:
    """A typo in the consumers' table stops start-up, naming the key."""
    with pytest.raises(ConfigError, match=r"unknown setting consumers\.prefetsh$"):
        load_worker(INBOUND, {}, _toml(tmp_path, "[consumers]\nprefetsh = 1\n"))


def test_a_table_nobody_owns_is_refused(tmp_path: Path) -> None:
    """[consumer] (a typo of [consumers]) is refused by the relay."""
    with pytest.raises(ConfigError, match=r"unknown setting consumer$"):
        load_settings(_toml(tmp_path, "[consumer]\n"), {})


def test_a_consumer_error_names_the_key_and_the_variable() -> None:
    """One line: the TOML key, its variable and the refused value."""
    with pytest.raises(ConfigError) as caught:
        load_worker(INBOUND, {"CONSUMER_RETRY_DELAYS": "1,0"})
    assert "consumers.retry_delays (CONSUMER_RETRY_DELAYS)" in str(caught.value)
    assert "\n" not in str(caught.value)


def test_a_secret_never_appears_in_an_error(tmp_path: Path) -> None:
    """A refused secret value is not echoed back."""
    path = _toml(tmp_path, '[consumers]\namqp_url = ["amqp://u:hunter2@h/"]\n')
    with pytest.raises(ConfigError, match=r"consumers\.amqp_url \(CONSUMER_AMQP_URL\)") as caught:
        load_worker(INBOUND, {}, path)
    assert "hunter2" not in str(caught.value)


def test_a_secret_file_holds_the_consumers_store_url(tmp_path: Path) -> None:
    """CONSUMER_STORE_URL_FILE names a file with the URL (container secrets)."""
    env = {"CONSUMER_STORE_URL_FILE": _secret_file(tmp_path, "postgresql://u:pw@db/x\n")}
    assert load_worker(INBOUND, env).store_url == Secret("postgresql://u:pw@db/x")


def test_a_single_secret_is_set_once(tmp_path: Path) -> None:
    """Both CONSUMER_AMQP_URL and CONSUMER_AMQP_URL_FILE: refused, naming both."""
    env = {
        "CONSUMER_AMQP_URL": "amqp://a/",
        "CONSUMER_AMQP_URL_FILE": _secret_file(tmp_path, "amqp://b/\n"),
    }
    with pytest.raises(ConfigError, match="CONSUMER_AMQP_URL or CONSUMER_AMQP_URL_FILE"):
        load_worker(INBOUND, env)


def test_the_relay_broker_url_has_a_file_twin(tmp_path: Path) -> None:
    """RELAY_AMQP_URL_FILE, by the same rule as the consumers' secrets."""
    env = {"RELAY_AMQP_URL_FILE": _secret_file(tmp_path, "amqp://u:p@node/\n")}
    assert load_settings(None, env).amqp.url == Secret("amqp://u:p@node/")


def test_consumers_take_a_failover_list() -> None:
    """CONSUMER_AMQP_URLS lists cluster nodes in the order the worker tries them."""
    s = load_worker(INBOUND, {"CONSUMER_AMQP_URLS": "amqp://a/, amqp://b/"})
    assert [a.reveal() for a in s.addresses()] == ["amqp://a/", "amqp://b/"]


def test_consumers_fall_back_to_the_relay_broker_variables() -> None:
    """No CONSUMER_AMQP_*: the workers use RELAY_AMQP_URL / RELAY_AMQP_URLS."""
    one = load_worker(INBOUND, {"RELAY_AMQP_URL": "amqp://relay/"})
    many = load_worker(INBOUND, {"RELAY_AMQP_URLS": "amqp://n1/,amqp://n2/"})
    assert one.addresses() == (Secret("amqp://relay/"),)
    assert many.addresses() == (Secret("amqp://n1/"), Secret("amqp://n2/"))


def test_consumers_fall_back_to_the_relay_amqp_table(tmp_path: Path) -> None:
    """No CONSUMER_AMQP_*: the file's [amqp] urls serve the workers too."""
    path = _toml(tmp_path, '[amqp]\nurls = ["amqp://n1/", "amqp://n2/"]\n')
    assert [a.reveal() for a in load_worker(INBOUND, {}, path).addresses()] == [
        "amqp://n1/",
        "amqp://n2/",
    ]


def test_a_consumer_broker_setting_wins_over_the_relay_one() -> None:
    """CONSUMER_AMQP_URL given: RELAY_AMQP_URLS is not consulted."""
    env = {"CONSUMER_AMQP_URL": "amqp://own/", "RELAY_AMQP_URLS": "amqp://relay/"}
    assert load_worker(INBOUND, env).addresses() == (Secret("amqp://own/"),)


def test_a_secrets_file_line_starting_with_hash_is_a_secret(tmp_path: Path) -> None:
    """No comments in a secrets file: `#` starts a secret like any other character."""
    path = _secret_file(tmp_path, "#Zk9x!\r\n\nplain,with:comma\n")
    s = load_settings(None, {"RELAY_SECURITY_HMAC_SECRETS_FILE": path}).security
    assert s.hmac_secrets == (Secret("#Zk9x!"), Secret("plain,with:comma"))


def test_a_comma_in_an_environment_secret_stops_start_up() -> None:
    """`ab,cd` could be one secret or two: refused, naming the variable and the JSON form."""
    with pytest.raises(ConfigError) as caught:
        load_settings(None, {"RELAY_SECURITY_HMAC_SECRETS": "ab,cd"})
    message = str(caught.value)
    assert "security.hmac_secrets (RELAY_SECURITY_HMAC_SECRETS)" in message
    assert "JSON array" in message
    assert "ab" not in message.replace("hmac", "")


def test_a_json_array_takes_each_secret_verbatim() -> None:
    """Commas, colons and `#` inside a secret survive the JSON form."""
    env = {
        "RELAY_SECURITY_HMAC_SECRETS": '["a,b", "#c"]',
        "RELAY_SECURITY_BASIC_CREDENTIALS": '["sinch:pa,ss"]',
    }
    s = load_settings(None, env).security
    assert s.hmac_secrets == (Secret("a,b"), Secret("#c"))
    assert s.basic_credentials == (Secret("sinch:pa,ss"),)


def test_one_secret_in_the_environment_is_taken_whole() -> None:
    """Without a comma the variable is one secret, whatever else it holds."""
    s = load_settings(None, {"RELAY_SECURITY_OAUTH_TOKEN_KEYS": "#k;e y="}).security
    assert s.oauth_token_keys == (Secret("#k;e y="),)


def test_an_empty_secret_list_variable_means_none() -> None:
    """`RELAY_SECURITY_HMAC_SECRETS=` (set, empty) is no secret, as before, not an error."""
    assert load_settings(None, {"RELAY_SECURITY_HMAC_SECRETS": ""}).security.hmac_secrets == ()


def test_a_comma_inside_a_broker_url_is_refused() -> None:
    """Broker lists stay comma-separated; a piece that is no URL means a comma inside one."""
    with pytest.raises(ConfigError, match=r"RELAY_AMQP_URLS\): item 2 is not a URL") as caught:
        load_settings(None, {"RELAY_AMQP_URLS": "amqp://u:pa,ss@h/"})
    assert "pa" not in str(caught.value)


@pytest.mark.parametrize("text", ["secret \n", " secret\n", "ok\n\tsecret\n"])
def test_a_secrets_file_line_with_surrounding_whitespace_is_refused(
    tmp_path: Path, text: str
) -> None:
    """A stray space could be part of the secret or an editor's slip: refused, by line."""
    path = _secret_file(tmp_path, text)
    with pytest.raises(ConfigError, match=r"hmac_secrets_file: line \d of .* whitespace"):
        load_settings(None, {"RELAY_SECURITY_HMAC_SECRETS_FILE": path})


def test_an_environment_secret_with_surrounding_whitespace_is_refused() -> None:
    """The same rule for a variable: refused, never trimmed into another secret."""
    with pytest.raises(ConfigError, match=r"CONSUMER_STORE_URL\): begins or ends with white"):
        load_worker(INBOUND, {"CONSUMER_STORE_URL": "sqlite:///x.db "})

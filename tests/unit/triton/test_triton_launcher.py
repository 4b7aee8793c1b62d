"""Launcher pieces that need no running server: locating the wheel's server, the
backend directory, the stub's environment, ports and the command line."""
import os
import socket
import subprocess
import sys
import sysconfig

import pytest

from services.triton import launcher, stubenv
from services.triton.launcher import TritonLaunchError, TritonServer


def test_backend_directory_has_the_stub_for_this_python(tmp_path):
    server_dir = launcher.wheel_server_dir()
    backends = launcher.assemble_backend_directory(server_dir, tmp_path)
    python_dir = backends / "python"
    stub = python_dir / "triton_python_backend_stub"
    assert (python_dir / "libtriton_python.so").is_file()
    assert (python_dir / "triton_python_backend_utils.py").is_file()
    assert os.access(stub, os.X_OK)
    assert stub.read_bytes() == launcher.python_stub(server_dir).read_bytes()
    assert f"{sys.version_info.major}.{sys.version_info.minor}" in str(launcher.python_stub(server_dir))


def test_server_environment_puts_this_libpython_and_the_stub_env_first(tmp_path):
    libs = launcher.wheel_libs_dir(launcher.wheel_server_dir())
    env = launcher.server_environment([libs], tmp_path / "bin", base={"PATH": "/usr/bin", "LD_LIBRARY_PATH": "/x"})
    loader = env["LD_LIBRARY_PATH"].split(os.pathsep)
    assert loader[0] == sysconfig.get_config_var("LIBDIR")
    assert str(libs) in loader and loader[-1] == "/x"
    path = env["PATH"].split(os.pathsep)
    assert path[0] == str(tmp_path / "bin") and path[-1] == "/usr/bin"


def test_stub_overlay_has_numpy_1_and_the_project(tmp_path):
    """The stub runs models in this environment: numpy 1.x (its ABI) plus everything else."""
    site = stubenv.install()
    bin_dir = stubenv.build_overlay(tmp_path, site)
    probe = ("import numpy, onnxruntime, PIL, services.models.tokenfd.triton.contract as c; "
             "print(numpy.__version__, c.TOKENFD_LOCATE)")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}  # the stub ignores PYTHONPATH too
    result = subprocess.run([str(bin_dir / "python3"), "-I", "-c", probe], capture_output=True, text=True,
                            env=env, cwd=tmp_path, timeout=120)
    assert result.returncode == 0, result.stderr
    numpy_version, model = result.stdout.split()
    assert numpy_version.startswith("1.") and model == "tokenfd_locate"


def test_missing_numpy1_site_is_a_clear_error(tmp_path):
    with pytest.raises(stubenv.StubEnvError, match="make setup"):
        stubenv.build_overlay(tmp_path, tmp_path / "empty-site")


def test_port_zero_picks_distinct_free_ports(tmp_path):
    server = TritonServer(tmp_path, http_port=0, grpc_port=0, metrics_port=0)
    ports = {server.http_port, server.grpc_port, server.metrics_port}
    assert len(ports) == 3 and 0 not in ports
    assert server.http_url == f"http://127.0.0.1:{server.http_port}"
    assert server.grpc_url == f"127.0.0.1:{server.grpc_port}"
    assert server.metrics_url == f"http://127.0.0.1:{server.metrics_port}/metrics"


def test_command_line(tmp_path):
    server = TritonServer(tmp_path, http_port=18000, grpc_port=18001, metrics_port=18002, log_verbose=1,
                          workspace=tmp_path / "ws")
    command = server.command()
    assert command[0].endswith("bin/tritonserver")
    for flag in (f"--model-repository={tmp_path}", "--http-port=18000", "--grpc-port=18001",
                 "--metrics-port=18002", "--log-verbose=1", "--disable-auto-complete-config",
                 f"--backend-directory={tmp_path / 'ws' / 'backends'}"):
        assert flag in command


def test_start_refuses_a_missing_repository(tmp_path):
    with pytest.raises(TritonLaunchError, match="make models"):
        TritonServer(tmp_path / "nowhere", http_port=0, grpc_port=0, metrics_port=0).start()


def test_start_refuses_a_busy_port(tmp_path):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        server = TritonServer(tmp_path, http_port=port, grpc_port=0, metrics_port=0)
        with pytest.raises(TritonLaunchError, match="already in use"):
            server.start()
    assert server.process is None


@pytest.mark.parametrize("name, value, reason", [
    ("PERCEPT_TRITON_GRPC_PORT", "abc", "invalid literal"),
    ("PERCEPT_TRITON_HTTP_PORT", "99999", "TCP port"),
    ("PERCEPT_TRITON_STARTUP_TIMEOUT_S", "-1", "above 0"),
])
def test_a_malformed_setting_stops_the_launcher_at_start_naming_it(tmp_path, name, value, reason):
    """Checked before anything is assembled or spawned: exit 2, the variable named, no workspace made."""
    env = {**os.environ, name: value, "PERCEPT_TRITON_WORKSPACE": str(tmp_path / "ws"),
           "PYTHONPATH": str(launcher.REPO_ROOT)}
    result = subprocess.run([sys.executable, "-m", "services.triton.launcher", "--model-repository", str(tmp_path)],
                            capture_output=True, text=True, env=env, timeout=60)
    assert result.returncode == 2, result.stderr
    assert "invalid configuration" in result.stderr and name in result.stderr and reason in result.stderr
    assert "tritonserver pid" not in result.stdout
    assert not (tmp_path / "ws").exists()

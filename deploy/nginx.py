"""Runs the buffering reverse proxy: renders deploy/nginx.conf for this machine and becomes
nginx in the foreground (the Procfile's proxy line; the soak starts it the same way).

    python -m deploy.nginx --listen 0.0.0.0:8000 --upstream 127.0.0.1:8001
    python -m deploy.nginx --check ...     # render and let `nginx -t` judge, then exit

nginx comes from Debian's packages (`make proxy` installs it when missing)."""

from __future__ import annotations

import argparse
import grp
import os
import pwd
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

TEMPLATE = Path(__file__).with_name("nginx.conf")
TEMP_DIRS = ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")


def nginx_binary() -> str:
    found = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else "")
    if not found:
        raise SystemExit("nginx is not installed: `make proxy` installs Debian's package")
    return found


def render(listen: str, upstream: str, run_dir: Path) -> Path:
    """Writes nginx.conf into run_dir (with the temporary directories nginx needs) and
    returns its path."""
    run_dir.mkdir(parents=True, exist_ok=True)
    user = ""
    if os.geteuid() == 0:
        # Started as root (a container's init), nginx runs its workers as `nobody`, who
        # must be able to write the request buffers.
        nobody = pwd.getpwnam("nobody")
        user = f"user nobody {grp.getgrgid(nobody.pw_gid).gr_name};"
    for name in TEMP_DIRS:
        (run_dir / name).mkdir(exist_ok=True)
        if user:
            os.chown(run_dir / name, nobody.pw_uid, nobody.pw_gid)
    if user:
        os.chmod(run_dir, 0o711)  # nobody passes through to its directories, lists nothing
    text = (
        TEMPLATE.read_text()
        .replace("@USER@", user)
        .replace("@RUN_DIR@", str(run_dir))
        .replace("@LISTEN@", listen)
        .replace("@UPSTREAM@", upstream)
    )
    conf = run_dir / "nginx.conf"
    conf.write_text(text)
    return conf


def command(conf: Path, *extra: str) -> list[str]:
    return [nginx_binary(), "-p", str(conf.parent), "-c", str(conf), *extra]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--listen", default=f"0.0.0.0:{os.environ.get('PORT', '8000')}")
    parser.add_argument(
        "--upstream", default=f"127.0.0.1:{os.environ.get('WEB_PORT', '8001')}", help="gunicorn"
    )
    parser.add_argument("--run-dir", type=Path, help="for nginx.conf, its pid and buffers")
    parser.add_argument("--check", action="store_true", help="nginx -t on the rendered file")
    args = parser.parse_args(argv)
    run_dir = args.run_dir or Path(tempfile.mkdtemp(prefix="tourbot-nginx-"))
    conf = render(args.listen, args.upstream, run_dir)
    if args.check:
        result = subprocess.run(command(conf, "-t"), capture_output=True, text=True)
        sys.stderr.write(result.stderr)
        raise SystemExit(result.returncode)
    argv_nginx = command(conf, "-g", "daemon off;")
    os.execv(argv_nginx[0], argv_nginx)  # the Procfile's process becomes nginx itself


if __name__ == "__main__":
    main()

"""The app kept apart from the rest of the device, driven through the real
wardend: the users it refuses, the log the app cannot forge, and an app that
does not outlive a killed wardend."""
import json
import os
import pwd
import re
import select
import signal
import subprocess
import time
import unittest

import harness


def children(pid):
    with open("/proc/%d/task/%d/children" % (pid, pid)) as f:
        return [int(p) for p in f.read().split()]


def uid_of(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("Uid:"):
                return int(line.split()[1])
    return None


def needs_root(test):
    """Only root switches to another user, so only root can refuse one."""
    return unittest.skipUnless(
        os.geteuid() == 0,
        "needs root: a wardend that is not root switches to no user")(test)


class AppIsolationTest(harness.DeviceTestCase):

    def start_refused(self, *extra):
        """Runs wardend with the thermostat and `extra`; it must refuse."""
        proc = subprocess.Popen(
            [harness.WARDEND, "--state-dir", self.unit["dir"], "--listen",
             "127.0.0.1:0", "--app", harness.THERMOSTAT] + list(extra),
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            _, err = proc.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            _, err = proc.communicate()
            self.fail("wardend started instead of refusing: " + err)
        self.assertEqual(proc.returncode, 1, err)
        return err

    @needs_root
    def test_nobody_is_refused_with_a_clear_error(self):
        err = self.start_refused("--app-user", "nobody")
        self.assertIn('app user "nobody" (uid 65534) is shared by other '
                      'services', err)
        self.assertIn("--app-allow-shared-user", err)
        # Refused before anything was handed to that user.
        app_dir = os.path.join(self.unit["dir"], "app")
        self.assertFalse(os.path.exists(app_dir) and
                         os.stat(app_dir).st_uid == 65534)

    @needs_root
    def test_root_is_refused(self):
        err = self.start_refused("--app-user", "root")
        self.assertIn('app user "root" is root (uid 0)', err)

    @needs_root
    def test_a_user_that_runs_processes_is_refused(self):
        user = pwd.getpwnam(harness.APP_USER)
        other = subprocess.Popen(["/bin/sleep", "60"], user=user.pw_uid,
                                 group=user.pw_gid, extra_groups=[])
        self.addCleanup(other.wait)
        self.addCleanup(other.kill)
        err = self.start_refused("--app-user", harness.APP_USER)
        self.assertIn("already runs processes", err)
        self.assertIn(str(other.pid), err)

    @needs_root
    def test_the_app_runs_as_its_own_user_and_dies_with_wardend(self):
        # An app that does not notice its socket closing (the thermostat
        # would exit on that alone): only the death signal can end it.
        config = os.path.join(self.root, "wardend.json")
        with open(config, "w") as f:
            json.dump({"app": {"command": ["/bin/sleep", "600"],
                               "user": harness.APP_USER,
                               "allow_shared_user": True}}, f)
        d = self.start(app=False, extra=["--config", config])
        deadline = time.time() + 20
        while "app_started" not in d.read_log() and time.time() < deadline:
            time.sleep(0.01)
        (app,) = children(d.proc.pid)
        self.assertEqual(uid_of(app), pwd.getpwnam(harness.APP_USER).pw_uid)
        pidfd = os.pidfd_open(app)
        self.addCleanup(os.close, pidfd)
        d.proc.send_signal(signal.SIGKILL)
        d.proc.wait()
        # wardend did not end the app itself before it died.
        self.assertNotIn("app_disconnected", d.read_log())
        # A pidfd becomes readable when its process exits, whoever its
        # parent is now; the bound only keeps a failure from hanging.
        readable, _, _ = select.select([pidfd], [], [], 30)
        self.assertEqual(readable, [pidfd],
                         "the app %d outlived a killed wardend" % app)

    def test_the_app_cannot_write_or_flood_the_log(self):
        # More than a pipe holds (64 KiB), so the app cannot finish before
        # wardend has read most of it.
        script = ("echo 'wardend: notice security paired owner=mallory' >&2; "
                  "i=0; while [ $i -lt 30000 ]; do echo flood $i; "
                  "i=$((i+1)); done; "
                  "printf 'wardend: notice security paired owner=eve\\r\\n'")
        config = os.path.join(self.root, "wardend.json")
        with open(config, "w") as f:
            json.dump({"app": {"command": ["/bin/sh", "-c", script],
                               "user": harness.APP_USER,
                               "allow_shared_user": True}}, f)
        d = self.start(app=False, extra=["--config", config])
        deadline = time.time() + 30
        while "app_exited" not in d.read_log() and time.time() < deadline:
            time.sleep(0.05)
        self.assertIn("app_exited", d.read_log())
        self.assertEqual(d.stop(), 0)
        log = d.read_log()[d.log_start:]
        lines = log.splitlines()
        for line in lines:
            self.assertTrue(line.startswith("wardend: "), line)
            self.assertFalse(line.startswith("wardend: notice security "
                                             "paired"), line)
        app_lines = [l for l in lines if " app_output " in l]
        self.assertGreater(len(app_lines), 0, log)
        self.assertLessEqual(len(app_lines), 20, log)
        for line in app_lines:
            self.assertRegex(line, r"^wardend: info app app_output "
                             r"stream=std(out|err) line=")
        suppressed = [int(m.group(1)) for m in re.finditer(
            r"log_suppressed kind=app_output count=(\d+)", log)]
        self.assertGreater(sum(suppressed), 10000, log)


if __name__ == "__main__":
    result = unittest.main(exit=False).result
    if not result.wasSuccessful():
        raise SystemExit(1)
    if result.skipped:
        # Reported as skipped, not passed: some defences went untried.
        print("skipped: %s" % "; ".join(sorted({r for _, r in
                                                 result.skipped})))
        raise SystemExit(77)

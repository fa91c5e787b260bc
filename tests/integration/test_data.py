"""Personal data against the real wardend and warden: the inventory is
public, export and deletion need an owner, a deletion gives a receipt
signed by the device that `warden data verify-receipt` checks, and a
deletion a power cut interrupted is finished when wardend starts again,
leaving none of the rows' bytes in any file of the state directory."""
import json
import os
import re
import sqlite3
import time
import unittest

import harness
from harness import run_cli

MARKER = b"RECOGNISABLE-PERSONAL-RECORD-7f3a"


class DataTest(harness.DeviceTestCase):

    def files_holding(self, needle):
        hits = []
        for base, _, names in os.walk(self.unit["dir"]):
            for n in names:
                path = os.path.join(base, n)
                with open(path, "rb") as f:
                    if needle in f.read():
                        hits.append(path)
        return hits

    def test_delete_gives_a_receipt_the_owner_can_verify(self):
        d = self.start(app=False)
        self.pair(d)
        status, _, body = harness.request(d.port, "GET", "/v1/data/inventory")
        self.assertEqual(status, 200)
        self.assertIn("kinds", body)
        status, _, _ = harness.request(d.port, "GET", "/v1/data/export")
        self.assertEqual(status, 401)
        status, _, _ = harness.request(d.port, "POST", "/v1/data/delete", {})
        self.assertEqual(status, 401)
        status, _, _ = harness.request(d.port, "GET", "/v1/data/receipts")
        self.assertEqual(status, 401)

        out = run_cli("data", "export", "home", home=self.home)
        self.assertEqual(json.loads(out.stdout)["kinds"], [])
        refused = run_cli("data", "delete", "home", home=self.home,
                          input="", check=False)
        self.assertEqual(refused.returncode, 2, refused.stderr)

        receipt = os.path.join(self.root, "receipt.json")
        out = run_cli("data", "delete", "home", "--yes", "--receipt", receipt,
                      "--json", home=self.home)
        deletion = json.loads(out.stdout)["deletion"]
        self.assertEqual(deletion["keys_destroyed"], 0)
        ok = run_cli("data", "verify-receipt", receipt, "home", "--json",
                     home=self.home)
        self.assertEqual(json.loads(ok.stdout)["serial"], self.unit["serial"])
        cert = os.path.join(self.unit["dir"], "identity.crt")
        run_cli("data", "verify-receipt", receipt, "--device-cert", cert)
        # The device keeps it among its last receipts, which the owner
        # fetches and checks, newest first.
        run_cli("data", "delete", "home", "--yes", home=self.home)
        kept = os.path.join(self.root, "kept")
        os.mkdir(kept)
        listed = json.loads(run_cli("data", "receipts", "home", "--out", kept,
                                    "--json", home=self.home).stdout)
        self.assertEqual(len(listed["receipts"]), 2)
        self.assertTrue(all(r["valid"] for r in listed["receipts"]))
        with open(receipt) as f:
            first = json.load(f)
        with open(os.path.join(kept, "receipt-2.json")) as f:
            self.assertEqual(json.load(f), first)

        # A receipt that claims something else, or another unit's
        # certificate, does not verify.
        with open(receipt) as f:
            doc = json.load(f)
        doc["receipt"]["requested_by"] = "someone else"
        forged = os.path.join(self.root, "forged.json")
        with open(forged, "w") as f:
            json.dump(doc, f)
        bad = run_cli("data", "verify-receipt", forged, "home",
                      home=self.home, check=False)
        self.assertEqual(bad.returncode, 1, bad.stdout + bad.stderr)
        other = self.maker.provision()
        bad = run_cli("data", "verify-receipt", receipt, "--device-cert",
                      os.path.join(other["dir"], "identity.crt"), check=False)
        self.assertEqual(bad.returncode, 1, bad.stdout + bad.stderr)

    def pseudonyms(self, d):
        return re.findall(r"login_failed peer=(~[0-9a-f]+)", d.read_log())

    def test_a_deletion_unlinks_the_pseudonyms_in_the_log(self):
        d = self.start(app=False)
        self.pair(d)
        bad = {"owner": "home", "password": "not the password at all 1"}
        for _ in range(2):
            harness.request(d.port, "POST", "/v1/login", bad)
        before = self.pseudonyms(d)
        self.assertEqual(len(before), 2, d.read_log())
        # The same peer has the same pseudonym until a deletion...
        self.assertEqual(before[0], before[1])
        self.assertNotIn("127.0.0.1", "".join(
            line for line in d.read_log().splitlines()
            if "login_failed" in line))
        run_cli("data", "delete", "home", "--yes", home=self.home)
        harness.request(d.port, "POST", "/v1/login", bad)
        after = self.pseudonyms(d)[2:]
        self.assertEqual(len(after), 1, d.read_log())
        # ...after which it cannot be linked to what came before.
        self.assertNotEqual(after[0], before[0])

    def test_an_interrupted_deletion_is_finished_before_serving(self):
        d = self.start(app=False)
        d.stop()
        self.daemons.remove(d)
        # The state a power cut right after the intent leaves: the kind is
        # in its new epoch, its rows are still there.
        db = sqlite3.connect(os.path.join(self.unit["dir"], "data.db"))
        db.execute("INSERT INTO kinds(name, category, purpose, retention, "
                   "may_leave, epoch, records) VALUES('schedule', 'usage', "
                   "'heating times', 86400, 0, 2, 40)")
        for i in range(40):
            db.execute("INSERT INTO records(kind, epoch, created_at, sealed) "
                       "VALUES('schedule', 1, ?, ?)",
                       (int(time.time()), MARKER + b"-%d" % i + b"x" * 2000))
        db.execute(
            "INSERT INTO deletion(id, state, body) VALUES(1, 'pending', ?)",
            (json.dumps({"kinds": [{"name": "schedule", "records": 40,
                                    "epoch": 2}],
                         "keys": ["data-schedule-1"],
                         "requested_by": "device button",
                         "started_at": 1764590000}),))
        db.commit()
        db.close()
        self.assertTrue(self.files_holding(MARKER))

        d = self.start(app=False)
        # Running, with the store open: nothing of the rows is left.
        self.assertEqual(self.files_holding(MARKER), [])
        self.assertIn("data_deletion_resumed", d.read_log())
        self.pair(d)
        out = run_cli("data", "inventory", "home", "--json", home=self.home)
        self.assertEqual(json.loads(out.stdout)["kinds"][0]["name"],
                         "schedule")
        export = json.loads(run_cli("data", "export", "home",
                                    home=self.home).stdout)
        self.assertEqual(export["kinds"][0]["records"], [])
        d.stop()
        self.assertEqual(self.files_holding(MARKER), [])


    def test_reset_with_transfer_deletes_and_unpairs_in_one_step(self):
        d = self.start()
        self.pair(d)
        d.wait_app_ready(self.home, "home")
        schedule = {day: [{"time": "04:44", "setpoint": 28.5}]
                    for day in ["sun", "mon", "tue", "wed", "thu", "fri",
                                "sat"]}
        run_cli("set", "home", "schedule", json.dumps(schedule),
                home=self.home)
        export = json.loads(run_cli("data", "export", "home",
                                    home=self.home).stdout)
        self.assertIn("schedule", [k["name"] for k in export["kinds"]
                                   if k["records"]])
        receipt = os.path.join(self.root, "transfer-receipt.json")
        out = run_cli("reset", "home", "--transfer", "--yes", "--receipt",
                      receipt, "--json", home=self.home)
        done = json.loads(out.stdout)
        self.assertFalse(done["paired"])
        self.assertTrue(done["deletion"]["unpaired"])
        self.assertGreaterEqual(done["deletion"]["keys_destroyed"], 1)
        cert = os.path.join(self.unit["dir"], "identity.crt")
        checked = json.loads(run_cli("data", "verify-receipt", receipt,
                                     "--device-cert", cert, "--json").stdout)
        # The signed receipt itself says the device was unpaired in the
        # same step, and that statement cannot be taken out unnoticed.
        self.assertTrue(checked["unpaired"])
        with open(receipt) as f:
            doc = json.load(f)
        del doc["receipt"]["unpaired"]
        stripped = os.path.join(self.root, "stripped-receipt.json")
        with open(stripped, "w") as f:
            json.dump(doc, f)
        bad = run_cli("data", "verify-receipt", stripped, "--device-cert",
                      cert, check=False)
        self.assertEqual(bad.returncode, 1, bad.stdout + bad.stderr)
        self.assertIn("signature", bad.stderr)
        # A new owner pairs with the label's code and finds nothing of the
        # old one's data.
        new_home = os.path.join(self.root, "new-owner")
        self.pair(d, home=new_home, name="home")
        export = json.loads(run_cli("data", "export", "home",
                                    home=new_home).stdout)
        for kind in export["kinds"]:
            self.assertNotIn("04:44", json.dumps(kind["records"]))

    def test_an_interrupted_transfer_is_finished_before_serving(self):
        d = self.start(app=False)
        self.pair(d)
        d.stop()
        self.daemons.remove(d)
        # A power cut right after the intent of a transfer: the owner is
        # still paired, the rows are still there.
        db = sqlite3.connect(os.path.join(self.unit["dir"], "data.db"))
        db.execute("INSERT INTO kinds(name, category, purpose, retention, "
                   "may_leave, epoch, records) VALUES('schedule', 'usage', "
                   "'heating times', 86400, 0, 2, 1)")
        db.execute("INSERT INTO records(kind, epoch, created_at, sealed) "
                   "VALUES('schedule', 1, ?, ?)",
                   (int(time.time()), MARKER + b"x" * 200))
        db.execute(
            "INSERT INTO deletion(id, state, body) VALUES(1, 'pending', ?)",
            (json.dumps({"kinds": [{"name": "schedule", "records": 1,
                                    "epoch": 2}],
                         "keys": [], "unpair": True,
                         "requested_by": "owner",
                         "started_at": 1764590000}),))
        db.commit()
        db.close()

        d = self.start(app=False)
        self.assertIn("data_deletion_resumed", d.read_log())
        self.assertEqual(self.files_holding(MARKER), [])
        # Unpaired too: the old owner is refused, the label's code pairs
        # a new one.
        old = run_cli("data", "export", "home", home=self.home, check=False)
        self.assertNotEqual(old.returncode, 0, old.stdout)
        new_home = os.path.join(self.root, "new-owner")
        self.pair(d, home=new_home, name="home")


if __name__ == "__main__":
    unittest.main()

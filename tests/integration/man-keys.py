"""berth.socket(5) and berth.service(5) name every key berth reads: each key of the table in
daemon/unit-keys.c (honoured, accepted quietly, or warned about) appears in the KEYS section
of the page for its section ([Socket], [Unit] and [Install] in berth.socket(5); [Service] in
berth.service(5)), so that a key added to the table without a word in the manual fails here."""
import os
import re
import unittest

ROOT = os.environ.get("BERTH_SOURCE_ROOT", os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))))


def table():
    with open(os.path.join(ROOT, "daemon", "unit-keys.c")) as f:
        s = f.read()
    start = s.index("static const ConfigItem config_items[] = {")
    end = s.index("/* Families of systemd keys berth does not implement")
    return re.findall(r'\{\s*(U|SO|SE|I),\s*"(\w+)",\s*(\w+)', s[start:end])


def keys_section(page):
    with open(os.path.join(ROOT, "man", page)) as f:
        text = f.read()
    m = re.search(r"^# KEYS\n(.*?)(?=^# )", text, re.S | re.M)
    return m.group(1) if m else ""


class ManKeys(unittest.TestCase):
    def test_every_key_is_named(self):
        pages = {"SO": "berth.socket.5.scd", "U": "berth.socket.5.scd",
                 "I": "berth.socket.5.scd", "SE": "berth.service.5.scd"}
        missing = []
        rows = table()
        self.assertGreater(len(rows), 150)
        for section, key, _ in rows:
            text = keys_section(pages[section])
            self.assertTrue(text, "%s has no KEYS section" % pages[section])
            if not re.search(r"\*%s=\*" % re.escape(key), text.replace("\n", " ")):
                missing.append("%s (%s)" % (key, pages[section]))
        self.assertEqual(missing, [], "keys the manual does not name: " + ", ".join(missing))


if __name__ == "__main__":
    unittest.main(verbosity=2)

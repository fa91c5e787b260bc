"""The login surfaces of the insecure lab device, out of real Debian
daemons each started with a configuration of its own (no system service):

  TELNET_PORT  busybox telnetd; its login program takes the Mirai pair
               root/xmhdipc and echoes what is typed (the password too)
  FTP_PORT     pyftpdlib with the login root/xc3511
  DIGEST_PORT  lighttpd, HTTP Digest (MD5, as cameras use it) with
               root/admin
  FORM_PORT    lighttpd, a login form (a CGI) taking admin/admin1234, with a
               hidden token it checks, then sending the browser on to its
               status page
  SSH_PORT     dropbear with password logins disabled (a surface that must
               not be reported as weak)
  COAP_PORT    libcoap's coap-server (UDP, and TCP), not declared

Used by test_assess.py and bench/assess_vs_tools.py."""
import os
import subprocess

TELNET_PORT, FTP_PORT, DIGEST_PORT, FORM_PORT, SSH_PORT = (2323, 2021, 8084,
                                                           8085, 2222)
COAP_PORT = 5683
PORTS = (TELNET_PORT, FTP_PORT, DIGEST_PORT, FORM_PORT, SSH_PORT)
# What each planted login is, for the checks (never in the report).
TELNET_LOGIN = ("root", "xmhdipc")
FTP_LOGIN = ("root", "xc3511")
DIGEST_LOGIN = ("root", "admin")
FORM_LOGIN = ("admin", "admin1234")

TELNET_LOGIN_PROGRAM = """#!/bin/sh
printf 'ipcam login: '
read -r user
printf 'Password: '
read -r password
if [ "$user" = "{user}" ] && [ "$password" = "{password}" ]; then
  printf '\\r\\n\\r\\nBusyBox v1.35.0 built-in shell (ash)\\r\\n\\r\\n# '
  read -r line
else
  printf '\\r\\nLogin incorrect\\r\\n'
fi
"""

FORM_CGI = """import os, sys, urllib.parse
FORM = ('<html><body><h1>IP camera</h1>%s<form method="post" '
        'action="/index.py"><input type="hidden" name="token" value="a1b2">'
        '<input type="text" name="username"><input type="password" '
        'name="pwd"><input type="submit" value="Log in"></form></body></html>')
if os.environ.get("REQUEST_METHOD") == "POST":
    n = min(int(os.environ.get("CONTENT_LENGTH") or 0), 4096)
    f = urllib.parse.parse_qs(sys.stdin.read(n))
    if (f.get("username") == [{user!r}] and f.get("pwd") == [{password!r}]
            and f.get("token") == ["a1b2"]):
        sys.stdout.write("Status: 302 Found\\r\\nLocation: /status.html\\r\\n"
                         "Set-Cookie: session=1\\r\\n\\r\\n")
        sys.exit(0)
    body = FORM % "<p>Invalid user name or password</p>"
else:
    body = FORM % ""
sys.stdout.write("Content-Type: text/html\\r\\nContent-Length: %d\\r\\n\\r\\n%s"
                 % (len(body), body))
"""

LIGHTTPD_CONF = """server.modules = ("mod_auth", "mod_authn_file", "mod_cgi")
server.bind = "127.0.0.1"
server.port = {digest}
server.document-root = "{dir}/www"
server.errorlog = "{dir}/lighttpd-error.log"
index-file.names = ("index.html", "index.py")
auth.backend = "plain"
auth.backend.plain.userfile = "{dir}/digest.users"
$SERVER["socket"] == "127.0.0.1:{digest}" {{
  auth.require = ("/" => ("method" => "digest", "realm" => "ipcam",
                          "algorithm" => "MD5", "require" => "valid-user"))
}}
$SERVER["socket"] == "127.0.0.1:{form}" {{
  server.document-root = "{dir}/form"
  cgi.assign = (".py" => "/usr/bin/python3")
}}
"""


def start(lab, start_daemon, wait_listening):
    """Writes the configurations under `lab` and starts the daemons with
    `start_daemon(cmd, name)` (which returns a process that
    `wait_listening(port, process)` waits on)."""
    for d in ["www", "form", "ftp"]:
        os.makedirs(os.path.join(lab, d), exist_ok=True)
    with open(os.path.join(lab, "www", "index.html"), "w") as f:
        f.write("<html><body>IP camera</body></html>\n")
    with open(os.path.join(lab, "form", "status.html"), "w") as f:
        f.write("<html><body>Camera status: recording</body></html>\n")
    login = os.path.join(lab, "telnet-login.sh")
    with open(login, "w") as f:
        f.write(TELNET_LOGIN_PROGRAM.format(user=TELNET_LOGIN[0],
                                            password=TELNET_LOGIN[1]))
    os.chmod(login, 0o755)
    with open(os.path.join(lab, "form", "index.py"), "w") as f:
        f.write(FORM_CGI.format(user=FORM_LOGIN[0], password=FORM_LOGIN[1]))
    with open(os.path.join(lab, "digest.users"), "w") as f:
        f.write("%s:%s\n" % DIGEST_LOGIN)
    conf = os.path.join(lab, "lighttpd.conf")
    with open(conf, "w") as f:
        f.write(LIGHTTPD_CONF.format(dir=lab, digest=DIGEST_PORT,
                                     form=FORM_PORT))
    key = os.path.join(lab, "ssh_host_ed25519")
    subprocess.run(["dropbearkey", "-t", "ed25519", "-f", key],
                   check=True, capture_output=True)

    started = [
        (start_daemon(["busybox", "telnetd", "-F", "-b", "127.0.0.1", "-p",
                       str(TELNET_PORT), "-l", login], "telnetd"),
         [TELNET_PORT]),
        (start_daemon(["/usr/bin/python3", "-m", "pyftpdlib", "-i",
                       "127.0.0.1", "-p", str(FTP_PORT), "-u", FTP_LOGIN[0],
                       "-P", FTP_LOGIN[1], "-d", os.path.join(lab, "ftp")],
                      "pyftpdlib"), [FTP_PORT]),
        (start_daemon(["lighttpd", "-D", "-f", conf], "lighttpd"),
         [DIGEST_PORT, FORM_PORT]),
        (start_daemon(["dropbear", "-F", "-E", "-s", "-p",
                       "127.0.0.1:%d" % SSH_PORT, "-r", key], "dropbear"),
         [SSH_PORT]),
        (start_daemon(["coap-server-notls", "-A", "127.0.0.1", "-p",
                       str(COAP_PORT)], "coap-server"), [COAP_PORT]),
    ]
    for proc, ports in started:
        for port in ports:
            wait_listening(port, proc)

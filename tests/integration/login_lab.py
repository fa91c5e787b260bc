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
  SSH_PASSWORD_PORT
               dropbear with password logins, taking root/juantech: it runs
               in a mount namespace of its own where a passwd and shadow
               file written here are bound over /etc/passwd and
               /etc/shadow, so no account is created on the machine
  COAP_PORT    libcoap's coap-server (UDP, and TCP), not declared
  SSDP_PORT    minissdpd, answering M-SEARCH for the media server this
               module registers through its socket, not declared
  MDNS_PORT    avahi-daemon without D-Bus, on loopback only, publishing the
               camera's web page (_http._tcp); in a mount namespace of its
               own where the service directory written here is bound over
               /etc/avahi/services and a tmpfs over /run (its pid file), not
               declared

Used by test_assess.py and bench/assess_vs_tools.py."""
import os
import secrets
import socket
import subprocess
import time

TELNET_PORT, FTP_PORT, DIGEST_PORT, FORM_PORT, SSH_PORT = (2323, 2021, 8084,
                                                           8085, 2222)
SSH_PASSWORD_PORT = 2223
COAP_PORT, SSDP_PORT, MDNS_PORT = 5683, 1900, 5353
PORTS = (TELNET_PORT, FTP_PORT, DIGEST_PORT, FORM_PORT, SSH_PORT,
         SSH_PASSWORD_PORT)
# What each planted login is, for the checks (never in the report).
TELNET_LOGIN = ("root", "xmhdipc")
FTP_LOGIN = ("root", "xc3511")
DIGEST_LOGIN = ("root", "admin")
FORM_LOGIN = ("admin", "admin1234")
SSH_LOGIN = ("root", "juantech")
# What the SSDP responder announces, and what avahi publishes.
SSDP_ST = "urn:schemas-upnp-org:device:MediaServer:1"
SSDP_USN = "uuid:4d696e69-444c-164e-9d41-b827eb000001::" + SSDP_ST
SSDP_SERVER = "Linux/6.1 UPnP/1.0 IPCam/1.0"
SSDP_LOCATION = "http://127.0.0.1:%d/rootDesc.xml" % DIGEST_PORT
MDNS_SERVICE_TYPE = "_http._tcp"

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

AVAHI_CONF = """[server]
host-name=ipcam
domain-name=local
use-ipv4=yes
use-ipv6=no
allow-interfaces=lo
enable-dbus=no
[wide-area]
enable-wide-area=no
[publish]
publish-hinfo=no
publish-workstation=no
"""

AVAHI_SERVICE = """<?xml version="1.0" standalone='no'?>
<!DOCTYPE service-group SYSTEM "avahi-service.dtd">
<service-group>
  <name>IP camera</name>
  <service><type>{type}</type><port>{port}</port></service>
</service-group>
"""


def _minissdpd_string(text):
    """A string of minissdpd's socket protocol: its length, 7 bits a byte,
    the high bit on every byte but the last, then the bytes."""
    data = text.encode()
    n, length = len(data), [len(data) & 0x7F]
    n >>= 7
    while n:
        length.insert(0, (n & 0x7F) | 0x80)
        n >>= 7
    return bytes(length) + data


def _minissdpd_request(path, request):
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(5)
        s.connect(path)
        s.sendall(request)
        if request[0] != 4:  # a submission has no reply
            return s.recv(4096)
        return b""


def _register_ssdp_service(path, proc, timeout=20):
    """Registers the media server with minissdpd (request 4, "submit
    service"), then waits until its list (request 3, "all") holds it, so
    that the daemon answers M-SEARCH for it from then on."""
    deadline = time.time() + timeout
    submitted = False
    while time.time() < deadline:
        if proc.proc.poll() is not None:
            raise AssertionError("minissdpd exited")
        try:
            if not submitted:
                _minissdpd_request(path, b"\x04" + b"".join(
                    _minissdpd_string(t) for t in
                    (SSDP_ST, SSDP_USN, SSDP_SERVER, SSDP_LOCATION)))
                submitted = True
            if SSDP_USN.encode() in _minissdpd_request(
                    path, b"\x03" + _minissdpd_string("ssdp:all")):
                return
        except OSError:
            pass
        time.sleep(0.05)
    raise AssertionError("minissdpd did not take the service")


def _wait_for_line(path, line, proc, timeout=20):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if os.path.exists(path):
            with open(path, errors="replace") as f:
                if line in f.read():
                    return
        if proc.proc.poll() is not None:
            raise AssertionError("%s: exited before %r" % (path, line))
        time.sleep(0.05)
    raise AssertionError("%s: no %r" % (path, line))


def _private_accounts(lab):
    """A passwd and shadow file holding only root, with the planted
    password, hashed here (SHA-512 crypt) as a device's image would."""
    salt = secrets.token_hex(8)
    hashed = subprocess.run(
        ["openssl", "passwd", "-6", "-salt", salt, "-stdin"],
        input=SSH_LOGIN[1], capture_output=True, text=True,
        check=True).stdout.strip()
    passwd = os.path.join(lab, "ssh-passwd")
    shadow = os.path.join(lab, "ssh-shadow")
    with open(passwd, "w") as f:
        f.write("%s:x:0:0:root:/root:/bin/sh\n" % SSH_LOGIN[0])
    with open(shadow, "w") as f:
        f.write("%s:%s:19000:0:99999:7:::\n" % (SSH_LOGIN[0], hashed))
    os.chmod(shadow, 0o600)
    return passwd, shadow


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

    passwd, shadow = _private_accounts(lab)
    ssh_password = ("mount --bind %s /etc/passwd && mount --bind %s "
                    "/etc/shadow && exec dropbear -F -E -p 127.0.0.1:%d -r %s"
                    % (passwd, shadow, SSH_PASSWORD_PORT, key))
    services = os.path.join(lab, "avahi-services")
    os.makedirs(services, exist_ok=True)
    with open(os.path.join(services, "ipcam.service"), "w") as f:
        f.write(AVAHI_SERVICE.format(type=MDNS_SERVICE_TYPE, port=DIGEST_PORT))
    avahi_conf = os.path.join(lab, "avahi-daemon.conf")
    with open(avahi_conf, "w") as f:
        f.write(AVAHI_CONF)
    avahi_log = os.path.join(lab, "avahi-daemon.log")
    avahi = ("mount --bind %s /etc/avahi/services && mount -t tmpfs -o "
             "mode=0755 tmpfs /run && exec avahi-daemon -f %s 2>%s"
             % (services, avahi_conf, avahi_log))
    ssdp_socket = os.path.join(lab, "minissdpd.sock")

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
        (start_daemon(["unshare", "-m", "sh", "-c", ssh_password],
                      "dropbear-password"), [SSH_PASSWORD_PORT]),
        (start_daemon(["coap-server-notls", "-A", "127.0.0.1", "-p",
                       str(COAP_PORT)], "coap-server"), [COAP_PORT]),
    ]
    ssdp = start_daemon(["minissdpd", "-d", "-i", "lo", "-s", ssdp_socket,
                         "-p", os.path.join(lab, "minissdpd.pid")],
                        "minissdpd")
    mdns = start_daemon(["unshare", "-m", "sh", "-c", avahi], "avahi-daemon")
    for proc, ports in started:
        for port in ports:
            wait_listening(port, proc)
    _register_ssdp_service(ssdp_socket, ssdp)
    _wait_for_line(avahi_log, "successfully established", mdns)

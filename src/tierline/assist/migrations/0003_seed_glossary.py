"""The glossary's first terms: common IT jargon and what to write instead. The administrator
edits the list afterwards (Assistant > Glossary terms); this runs once and only adds terms
that are not there yet."""

from django.db import migrations
from django.db.models.functions import Lower

# (term, plain alternative, note)
TERMS = [
    ("reboot", "restart", ""),
    ("power cycle", "turn it off and on again", ""),
    ("DNS", "the system that turns website names into addresses", ""),
    ("IP address", "the number that identifies a device on a network", ""),
    ("MAC address", "the hardware number of a device's network connection", ""),
    ("cache", "stored copy", "To “clear the cache” is to delete the copies a browser or app kept."),
    ("cookies", "small files websites keep in your browser", ""),
    ("VPN", "the secure connection to the office network", ""),
    ("MFA", "the second sign-in step (a code or an app)", ""),
    ("2FA", "the second sign-in step (a code or an app)", ""),
    ("multi-factor authentication", "the second sign-in step (a code or an app)", ""),
    ("two-factor authentication", "the second sign-in step (a code or an app)", ""),
    ("SSO", "one sign-in for all work apps", ""),
    ("single sign-on", "one sign-in for all work apps", ""),
    ("authenticate", "sign in", ""),
    ("authentication", "signing in", ""),
    ("credentials", "your username and password", ""),
    ("firmware", "the built-in software of a device", ""),
    ("driver", "the small program that lets the computer use a device", ""),
    ("bandwidth", "how much data the connection can carry", ""),
    ("latency", "delay", ""),
    ("proxy", "the go-between server for web traffic", ""),
    ("proxy server", "the go-between server for web traffic", ""),
    ("firewall", "the security filter on the network", ""),
    ("escalate", "pass to a specialist team", ""),
    ("escalated", "passed to a specialist team", ""),
    ("ticket", "request", "Requesters call it a request; the desk calls it a ticket."),
    ("endpoint", "computer or phone", ""),
    ("SSID", "Wi-Fi network name", ""),
    ("LAN", "office network", ""),
    ("WAN", "the network between our sites", ""),
    ("ethernet", "network cable", ""),
    ("ethernet cable", "network cable", ""),
    ("router", "the box that connects the network to the internet", ""),
    ("DHCP", "the service that gives each device its network address", ""),
    ("server", "central computer", ""),
    ("patch", "update", ""),
    ("hotfix", "urgent update", ""),
    ("deploy", "install", ""),
    ("deployment", "installation", ""),
    ("provision", "set up", ""),
    ("provisioning", "setting up", ""),
    ("deprovision", "remove access", ""),
    ("OS", "operating system (for example Windows or macOS)", ""),
    ("BIOS", "the computer's start-up settings", ""),
    ("boot", "start", ""),
    ("malware", "harmful software", ""),
    ("phishing", "fake emails that try to trick you", ""),
    ("ransomware", "harmful software that locks your files for money", ""),
    ("encryption", "scrambling data so only you can read it", ""),
    ("encrypted", "protected with a code", ""),
    ("SaaS", "online service", ""),
    ("cloud storage", "online storage", ""),
    ("sync", "keep up to date on all your devices", ""),
    ("synchronise", "keep up to date on all your devices", ""),
    ("mailbox", "email account", ""),
    ("SMTP", "the email sending service", ""),
    ("Active Directory", "the company's list of accounts", ""),
    ("domain account", "work account", ""),
    ("local admin", "administrator rights on the computer", ""),
    ("admin rights", "permission to install and change settings", ""),
    ("remote desktop", "connecting to a computer from another place", ""),
    ("RDP", "connecting to a computer from another place", ""),
    ("remote session", "a session where we see and control your screen", ""),
    ("peripheral", "add-on device (mouse, keyboard, printer)", ""),
    ("dongle", "small plug-in adapter", ""),
    ("port", "socket", ""),
    ("USB-C", "the small oval connector", ""),
    ("imaging", "setting up the computer from scratch", ""),
    ("re-image", "set up again from scratch", ""),
    ("backend", "the system behind the scenes", ""),
    ("outage", "the service is down", ""),
    ("downtime", "time when the service is unavailable", ""),
    ("SLA", "the time we promise to respond and fix", ""),
    ("workaround", "a temporary way around the problem", ""),
    ("root cause", "the underlying reason", ""),
    ("configure", "set up", ""),
    ("configuration", "settings", ""),
    ("troubleshoot", "look into", ""),
    ("KB article", "help article", ""),
]


def seed(apps, schema_editor):
    GlossaryTerm = apps.get_model("assist", "GlossaryTerm")
    have = set(
        GlossaryTerm.objects.annotate(key=Lower("term")).values_list("key", flat=True)
    )
    GlossaryTerm.objects.bulk_create(
        GlossaryTerm(term=term, plain=plain, note=note)
        for term, plain, note in TERMS
        if term.lower() not in have
    )


class Migration(migrations.Migration):
    dependencies = [("assist", "0002_glossary")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
